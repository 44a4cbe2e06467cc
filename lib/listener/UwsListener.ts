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
	refusalHeaders,
	safeCall,
	splitProtocols,
	statusLine,
	truncateReason
} from './common.js';
import type { ClientInfo, HttpRequest, Listener, ListenerOptions, TlsOptions, WsConnection } from './types.js';

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

	send(text: string | Buffer): boolean {
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
	/** The app that takes new TLS connections; reloadTls() replaces it. */
	#https: { app: uWS.TemplatedApp; listenSocket: uWS.us_listen_socket; port: number } | undefined;
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
			const port = this.#uws.us_socket_local_port(this.#listenOn(this.#createApp(this.#uws.App(), false), this.#opts.port));
			let httpsPort: number | undefined;

			if (this.#opts.tls) {
				// uWS reports bad files only as a failed constructor; check first for a useful message.
				await loadTls(this.#opts.tls);

				// stopAccepting() or close() during listen() must not be followed by a new app.
				if (this.#state !== 'listening') throw new Error('listener stopped while starting');

				const app = this.#sslApp(this.#opts.tls);

				httpsPort = this.#listenTls(app, this.#opts.httpsPort || this.#ephemeralPort(app));
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

		for (const listenSocket of this.#listenSockets) this.#closeListenSocket(listenSocket);

		debug('stopped accepting');
	}

	/**
	 * uWS loads a certificate only when an SSLApp is made, and SNI contexts
	 * (addServerName) do not cover the default one, so a reload makes a new
	 * SSLApp with the new files and moves the HTTPS port to it: the old listen
	 * socket is closed and the new app listens on the same port in the same
	 * turn of the event loop (SO_REUSEADDR; the port stays exclusive). Open
	 * connections stay on the old app, which lives until close(). Only
	 * connections that the kernel had queued on the old socket but uWS had not
	 * accepted yet are reset; their clients reconnect.
	 */
	async reloadTls(): Promise<void> {
		const tls = this.#opts.tls;

		if (!tls) return;

		// A broken pair rejects here, and the current app keeps serving.
		await loadTls(tls);

		const current = this.#https;

		// Not taking new connections (draining, closed, or not listening yet): nothing to swap.
		if (this.#state !== 'listening' || !current) return;

		// Made before the swap: a constructor that fails leaves the old app listening.
		const app = this.#sslApp(tls);

		this.#closeListenSocket(current.listenSocket);

		try {
			this.#listenTls(app, current.port);
		} catch (error) {
			// Someone took the port in between: serve on with the old certificate.
			this.#listenTls(current.app, current.port);
			throw error;
		}

		debug('TLS reloaded [httpsPort:%d]', current.port);
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

	/** Listens at once (uWS.js calls back before listen() returns); throws if it could not. */
	#listenOn(app: uWS.TemplatedApp, port: number): uWS.us_listen_socket {
		const listen = app.listen.bind(app) as unknown as ListenWithOptions;
		let listenSocket = false as uWS.us_listen_socket | false;

		listen(this.#opts.host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => (listenSocket = socket));

		// uSockets gives no errno: in use, or an address not on this host.
		if (!listenSocket) throw new Error(`uWebSockets.js could not listen on ${this.#opts.host}:${port} (in use?)`);

		this.#listenSockets.push(listenSocket);

		return listenSocket;
	}

	#closeListenSocket(listenSocket: uWS.us_listen_socket): void {
		this.#uws.us_listen_socket_close(listenSocket);
		this.#listenSockets = this.#listenSockets.filter((s) => s !== listenSocket);
	}

	#sslApp(tls: TlsOptions): uWS.TemplatedApp {
		return this.#createApp(this.#uws.SSLApp({ cert_file_name: tls.certPath, key_file_name: tls.keyPath }), true);
	}

	/**
	 * A port the system picks. uSockets sets SO_REUSEADDR only on a port given
	 * by number, and reloadTls() can bind the port again while connections are
	 * open on it only if it has that option: so the HTTPS port is always bound
	 * by number, after a probe on port 0.
	 */
	#ephemeralPort(app: uWS.TemplatedApp): number {
		const probe = this.#listenOn(app, 0);
		const port = this.#uws.us_socket_local_port(probe);

		this.#closeListenSocket(probe);

		return port;
	}

	/** Makes app the one that takes new TLS connections, on port; returns the port bound. */
	#listenTls(app: uWS.TemplatedApp, port: number): number {
		const listenSocket = this.#listenOn(app, port);
		const bound = this.#uws.us_socket_local_port(listenSocket);

		this.#https = { app, listenSocket, port: bound };

		return bound;
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

		app.any('/*', (res, req) => void this.#onRequest(res, req, secure));

		return app;
	}

	async #onRequest(res: uWS.HttpResponse, req: uWS.HttpRequest, secure: boolean): Promise<void> {
		let aborted = false;

		res.onAborted(() => (aborted = true));

		const headers: Record<string, string> = {};

		// uWS already lower-cases header names.
		req.forEach((name, value) => (headers[name] = name in headers ? `${headers[name]}, ${value}` : value));

		// req is only valid until the first await: read everything before it.
		const request: HttpRequest = { method: req.getCaseSensitiveMethod(), path: req.getUrl(), headers, remoteAddress: addressFromBytes(res.getRemoteAddress()) };
		const response = await handleHttp(this.#opts.http, request, secure);

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
				res.writeStatus(statusLine(decision.status));
				for (const [name, value] of Object.entries(refusalHeaders(secure))) res.writeHeader(name, value);
				res.end(decision.reason, true);
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
