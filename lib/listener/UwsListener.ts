// The Listener on uWebSockets.js: the fast path, used where its binary loads
// (glibc >= 2.38). The module is loaded by index.ts and handed in, so this file
// never triggers the native load itself.
//
// uWS rules this file lives by:
// - HttpRequest is stack-allocated: read every field before returning or awaiting.
// - An ArrayBuffer handed to a callback is neutered when the callback returns: copy it.
// - A WebSocket is dead after its close handler: any later call throws, so the
//   connection drops its reference there.

import debugFactory from 'debug';
import type * as uWS from 'uWebSockets.js';
import {
	BINARY_FRAME_CLOSE,
	BUFFER_BUDGET_INTERVAL_MS,
	MAX_BUFFERED_BYTES,
	enforceBufferBudget,
	addressFromBytes,
	decideUpgrade,
	handleHttp,
	loadTls,
	safeCall,
	splitProtocols,
	statusLine,
	truncateReason
} from './common.js';
import type { ClientInfo, HttpRequest, Listener, ListenerOptions, WsConnection } from './types.js';

export type UwsModule = typeof uWS;

const debug = debugFactory('vcall:listener:uws');

/**
 * Seconds of silence after which uWS pings (44 s, it keeps a 16 s margin) and
 * then closes a socket that stayed silent (60 s): dead TCP peers go away within
 * a minute, like the node listener's 30 s ping / pong check, and an idle
 * connection never stays quiet long enough for a proxy's 60 s read timeout.
 */
const IDLE_TIMEOUT_SECONDS = 60;

/**
 * uSockets otherwise sets SO_REUSEPORT on a fixed port, so a second (stale or
 * duplicate) server would silently share it and take part of the handshakes;
 * node:http fails with EADDRINUSE instead, and so should this listener. The
 * typings declare the value only inside an enum, and lack the
 * (host, port, options, cb) overload that the binary accepts.
 */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

type ListenWithOptions = (
	host: string,
	port: number,
	options: number,
	cb: (listenSocket: uWS.us_listen_socket | false) => void
) => uWS.TemplatedApp;

/** uWS WebSocket.send() result when the frame was dropped over maxBackpressure. */
const SEND_DROPPED = 2;

const utf8 = new TextDecoder();

interface SocketData {
	remoteAddress: string;
	client: ClientInfo;
	connection: UwsConnection | undefined;
}

/** One uWS WebSocket seen through the WsConnection contract. */
class UwsConnection implements WsConnection {
	readonly remoteAddress: string;
	readonly client: ClientInfo;
	onMessage: (text: string) => void = () => {};
	onClose: (code: number, reason: string) => void = () => {};
	/** Resolves after onClose ran. */
	readonly closed: Promise<void>;
	#resolveClosed!: () => void;
	/** Undefined from the close handler on: uWS throws on a closed socket. */
	#ws: uWS.WebSocket<SocketData> | undefined;

	constructor(ws: uWS.WebSocket<SocketData>, remoteAddress: string, client: ClientInfo) {
		this.#ws = ws;
		this.remoteAddress = remoteAddress;
		this.client = client;
		this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
	}

	bufferedAmount(): number {
		return this.#ws?.getBufferedAmount() ?? 0;
	}

	send(text: string): boolean {
		if (!this.#ws) return false;

		const ws = this.#ws;
		let status = SEND_DROPPED;

		// Most sends come from outside uWS callbacks (mediasoup events, timers):
		// corking makes each one a single write (a single TLS record on wss).
		ws.cork(() => (status = ws.send(text, false, false)));

		// On DROPPED, closeOnBackpressureLimit has already started closing the socket.
		return status !== SEND_DROPPED;
	}

	close(code: number, reason: string): void {
		// end() runs the close handler synchronously, which clears #ws.
		this.#ws?.end(code, truncateReason(reason));
	}

	/** Drops the TCP connection without a closing handshake. */
	terminate(): void {
		this.#ws?.close();
	}

	/** From uWS's message handler; text is already copied out of uWS's buffer. */
	deliver(text: string): void {
		if (!this.#ws) return;
		safeCall('onMessage', () => this.onMessage(text));
	}

	/** From uWS's close handler. */
	handleClosed(code: number, reason: string): void {
		if (!this.#ws) return;
		this.#ws = undefined;

		// uWS calls the close handler from inside end()/close(); deferring onClose
		// means a consumer never sees it re-entrantly from its own close() call,
		// which matches the node listener, where it always comes later.
		queueMicrotask(() => {
			safeCall('onClose', () => this.onClose(code, reason));
			this.#resolveClosed();
		});
	}
}

export class UwsListener implements Listener {
	readonly kind = 'uws' as const;
	readonly #uws: UwsModule;
	readonly #opts: ListenerOptions;
	readonly #apps: uWS.TemplatedApp[] = [];
	#listenSockets: uWS.us_listen_socket[] = [];
	readonly #connections = new Set<UwsConnection>();
	#bufferBudget: NodeJS.Timeout | undefined;
	#closing: Promise<void> | undefined;
	#state: 'new' | 'listening' | 'draining' | 'closed' = 'new';

	constructor(uws: UwsModule, opts: ListenerOptions) {
		this.#uws = uws;
		this.#opts = opts;
	}

	async listen(): Promise<{ port: number; httpsPort: number | undefined }> {
		if (this.#state !== 'new') throw new Error(`listen() called on a ${this.#state} listener`);

		this.#state = 'listening';

		try {
			const port = await this.#listenOn(this.#createApp(this.#uws.App(), false), this.#opts.port);
			let httpsPort: number | undefined;

			if (this.#opts.tls) {
				// uWS reports bad files only as a failed constructor; check first for a useful message.
				await loadTls(this.#opts.tls);

				// stopAccepting() or close() during listen() must not be followed by a new app.
				if (this.#state !== 'listening') throw new Error('listener stopped while starting');

				const app = this.#uws.SSLApp({
					cert_file_name: this.#opts.tls.certPath,
					key_file_name: this.#opts.tls.keyPath
				});

				httpsPort = await this.#listenOn(this.#createApp(app, true), this.#opts.httpsPort);
			}

			// The listen sockets keep the process alive, not this timer.
			this.#bufferBudget = setInterval(() => enforceBufferBudget(this.#connections, this.#opts.maxBufferedTotal), BUFFER_BUDGET_INTERVAL_MS).unref();
			debug('listening [host:%s, port:%d, httpsPort:%s]', this.#opts.host, port, httpsPort ?? '-');

			return { port, httpsPort };
		} catch (error) {
			await this.close();
			throw error;
		}
	}

	stopAccepting(): void {
		// Before listen() too: a listener told to stop never starts.
		if (this.#state === 'new' || this.#state === 'listening') this.#state = 'draining';

		for (const listenSocket of this.#listenSockets) this.#uws.us_listen_socket_close(listenSocket);

		this.#listenSockets = [];
		debug('stopped accepting');
	}

	/**
	 * uWS loads the certificate into the SSLApp's context at construction and
	 * offers no way to replace it. addServerName()/removeServerName() swap
	 * per-SNI-hostname contexts, but not the default one (clients without SNI),
	 * and each needs its own routes attached through domain(); a second SSLApp
	 * on the same port (SO_REUSEPORT) could take over, but would reset
	 * connections queued on the old listen socket. Neither is worth it for a
	 * certificate renewed every few weeks: restart instead.
	 */
	async reloadTls(): Promise<void> {
		if (!this.#opts.tls) return;

		throw new Error('reloadTls() is not supported by uWebSockets.js; restart to pick up certificates');
	}

	close(): Promise<void> {
		this.#closing ??= this.#close();

		return this.#closing;
	}

	async #close(): Promise<void> {
		this.#state = 'closed';
		clearInterval(this.#bufferBudget);
		this.stopAccepting();

		const gone = [...this.#connections].map((connection) => {
			connection.terminate();

			return connection.closed;
		});

		// Also drops keep-alive HTTP sockets.
		for (const app of this.#apps) app.close();

		await Promise.all(gone);
		debug('closed');
	}

	#listenOn(app: uWS.TemplatedApp, port: number): Promise<number> {
		const listen = app.listen.bind(app) as unknown as ListenWithOptions;

		return new Promise((resolve, reject) => {
			listen(this.#opts.host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (listenSocket) => {
				if (!listenSocket) {
					// uSockets gives no errno: in use, or an address not on this host.
					reject(new Error(`uWebSockets.js could not listen on ${this.#opts.host}:${port} (in use?)`));

					return;
				}

				this.#listenSockets.push(listenSocket);
				resolve(this.#uws.us_socket_local_port(listenSocket));
			});
		});
	}

	#createApp(app: uWS.TemplatedApp, secure: boolean): uWS.TemplatedApp {
		this.#apps.push(app);

		app.ws<SocketData>('/*', {
			compression: this.#uws.DISABLED,
			maxPayloadLength: this.#opts.maxMessageBytes,
			idleTimeout: IDLE_TIMEOUT_SECONDS,
			sendPingsAutomatically: true,
			maxBackpressure: MAX_BUFFERED_BYTES,
			closeOnBackpressureLimit: true,
			upgrade: (res, req, context) => this.#onUpgrade(res, req, context, secure),
			open: (ws) => this.#onOpen(ws),
			message: (ws, message, isBinary) => this.#onMessage(ws, message, isBinary),
			close: (ws, code, message) => this.#onClose(ws, code, message)
		});

		app.any('/*', (res, req) => void this.#onRequest(res, req));

		return app;
	}

	async #onRequest(res: uWS.HttpResponse, req: uWS.HttpRequest): Promise<void> {
		let aborted = false;

		res.onAborted(() => (aborted = true));

		const headers: Record<string, string> = {};

		// uWS already lower-cases header names.
		req.forEach((name, value) => (headers[name] = name in headers ? `${headers[name]}, ${value}` : value));

		// req is only valid until the first await: read everything before it.
		const request: HttpRequest = { method: req.getCaseSensitiveMethod(), path: req.getUrl(), headers, remoteAddress: addressFromBytes(res.getRemoteAddress()) };
		const response = await handleHttp(this.#opts.http, request);

		if (aborted) return;

		res.cork(() => {
			res.writeStatus(statusLine(response.status));

			for (const [name, value] of Object.entries(response.headers)) {
				// uWS writes Content-Length itself.
				if (name.toLowerCase() !== 'content-length') res.writeHeader(name, value);
			}

			if (request.method === 'HEAD') res.endWithoutBody(Buffer.byteLength(response.body));
			else res.end(response.body);
		});
	}

	#onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t, secure: boolean): void {
		let aborted = false;

		res.onAborted(() => (aborted = true));

		const key = req.getHeader('sec-websocket-key');
		const extensions = req.getHeader('sec-websocket-extensions');
		const remoteAddress = addressFromBytes(res.getRemoteAddress());
		const decision = decideUpgrade(
			this.#opts.upgrade,
			{
				path: req.getUrl(),
				origin: req.getHeader('origin'),
				protocols: splitProtocols(req.getHeader('sec-websocket-protocol')),
				remoteAddress,
				forwardedFor: req.getHeader('x-forwarded-for'),
				secure,
				query: new URLSearchParams(req.getQuery())
			},
			this.#state === 'listening'
		);

		if (aborted) return;

		if (!decision.accept) {
			debug('upgrade refused [address:%s, status:%d, reason:%s]', remoteAddress, decision.status, decision.reason);
			res.cork(() => {
				res
					.writeStatus(statusLine(decision.status))
					.writeHeader('Content-Type', 'text/plain; charset=utf-8')
					.end(decision.reason, true);
			});

			return;
		}

		res.cork(() => {
			// An empty protocol writes no Sec-WebSocket-Protocol header.
			const client = decision.client ?? { address: remoteAddress, token: undefined };

			res.upgrade<SocketData>({ remoteAddress, client, connection: undefined }, key, decision.protocol, extensions, context);
		});
	}

	#onOpen(ws: uWS.WebSocket<SocketData>): void {
		const data = ws.getUserData();
		const connection = new UwsConnection(ws, data.remoteAddress, data.client);

		data.connection = connection;
		this.#connections.add(connection);
		debug('connection [address:%s]', data.remoteAddress);

		if (!safeCall('connection handler', () => this.#opts.connection(connection))) {
			connection.close(1011, 'internal error');
		}
	}

	#onMessage(ws: uWS.WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
		const connection = ws.getUserData().connection;

		if (!connection) return;

		if (isBinary) {
			connection.close(BINARY_FRAME_CLOSE.code, BINARY_FRAME_CLOSE.reason);

			return;
		}

		// Decoding copies the text out of the buffer uWS reuses after we return.
		connection.deliver(utf8.decode(message));
	}

	#onClose(ws: uWS.WebSocket<SocketData>, code: number, message: ArrayBuffer): void {
		const connection = ws.getUserData().connection;

		if (!connection) return;

		debug('closed [address:%s, code:%d]', connection.remoteAddress, code);
		this.#connections.delete(connection);
		connection.handleClosed(code, utf8.decode(message));
	}
}
