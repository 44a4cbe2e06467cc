// The Listener on node:http / node:https + ws: the fallback where
// uWebSockets.js cannot load (glibc older than 2.38), and the reference
// behaviour the uWS listener is tested against.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import debugFactory from 'debug';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
	BINARY_FRAME_CLOSE,
	BUFFER_BUDGET_INTERVAL_MS,
	enforceBufferBudget,
	MAX_BUFFERED_BYTES,
	decideUpgrade,
	handleHttp,
	loadTls,
	refusalHeaders,
	normalizeAddress,
	safeCall,
	splitProtocols,
	statusLine,
	truncateReason
} from './common.js';
import type { ClientInfo, HttpRequest, Listener, ListenerOptions, WsConnection } from './types.js';

const debug = debugFactory('vcall:listener:node');

/**
 * Every socket is pinged this often and terminated if it did not answer the
 * previous ping: a dead TCP peer is detected within 30-60 s, about what uWS's
 * idleTimeout + sendPingsAutomatically gives the other listener.
 */
const HEARTBEAT_INTERVAL_MS = 30_000;

function rawToString(data: RawData): string {
	if (Buffer.isBuffer(data)) return data.toString('utf8');
	if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');

	return Buffer.from(data).toString('utf8');
}

function splitUrl(url: string): { path: string; query: string } {
	// Split by hand: new URL() would read a path like '//x/y' as a host.
	const q = url.indexOf('?');

	return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

function readHeaders(req: IncomingMessage): Record<string, string> {
	const headers: Record<string, string> = {};

	// Node already lower-cases header names.
	for (const [name, value] of Object.entries(req.headers)) {
		if (value === undefined) continue;
		headers[name] = Array.isArray(value) ? value.join(', ') : value;
	}

	return headers;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, secure: boolean): void {
	const body = Buffer.from(reason);
	const headers = Object.entries(refusalHeaders(secure)).map(([name, value]) => `${name}: ${value}\r\n`);

	// Destroy once the response is flushed: destroying right away could lose it.
	socket.once('finish', () => socket.destroy());
	socket.end(`HTTP/1.1 ${statusLine(status)}\r\nConnection: close\r\n${headers.join('')}Content-Length: ${body.length}\r\n\r\n${body.toString()}`);
}

function listenOn(server: http.Server, port: number, host: string): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

/** One accepted ws socket seen through the WsConnection contract. */
class NodeConnection implements WsConnection {
	readonly remoteAddress: string;
	readonly client: ClientInfo;
	onMessage: (text: string) => void = () => {};
	onClose: (code: number, reason: string) => void = () => {};
	/** Resolves after onClose ran. */
	readonly closed: Promise<void>;
	readonly #ws: WebSocket;
	/** Answered the last ping (or sent anything) since the previous heartbeat. */
	#alive = true;
	/** The TCP socket under ws (the one handed to handleUpgrade), corked until the next tick while sending. */
	readonly #socket: Duplex;
	#corked = false;

	constructor(ws: WebSocket, remoteAddress: string, socket: Duplex, client: ClientInfo) {
		this.#ws = ws;
		this.#socket = socket;
		this.remoteAddress = remoteAddress;
		this.client = client;

		let resolveClosed: () => void;

		this.closed = new Promise((resolve) => (resolveClosed = resolve));

		ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
		ws.on('pong', () => (this.#alive = true));
		// ws emits 'close' after every 'error' (e.g. 1009 for an oversize message).
		ws.on('error', (error) => debug('socket error [address:%s]: %s', remoteAddress, error.message));
		ws.once('close', (code, reason) => {
			debug('closed [address:%s, code:%d]', remoteAddress, code);
			safeCall('onClose', () => this.onClose(code, reason.toString('utf8')));
			resolveClosed();
		});
	}

	bufferedAmount(): number {
		return this.#ws.bufferedAmount;
	}

	send(text: string | Buffer): boolean {
		if (this.#ws.readyState !== WebSocket.OPEN) return false;

		// ws buffers without limit; mirror uWS's maxBackpressure + closeOnBackpressureLimit.
		if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
			debug('send buffer over %d bytes, terminating [address:%s]', MAX_BUFFERED_BYTES, this.remoteAddress);
			this.terminate();

			return false;
		}

		// Responses produced in the same tick (a client's pipelined requests,
		// a room's notifications) leave in one write instead of one each.
		if (!this.#corked) {
			this.#corked = true;
			this.#socket.cork();
			process.nextTick(() => this.#flush());
		}
		this.#ws.send(text, { binary: false });

		return true;
	}

	close(code: number, reason: string): void {
		if (this.#ws.readyState !== WebSocket.OPEN) return;
		this.#ws.close(code, truncateReason(reason));
	}

	/** Called every HEARTBEAT_INTERVAL_MS. */
	heartbeat(): void {
		if (this.#ws.readyState !== WebSocket.OPEN) return;

		if (!this.#alive) {
			debug('no pong since last ping, terminating [address:%s]', this.remoteAddress);
			this.terminate();

			return;
		}

		this.#alive = false;
		this.#ws.ping();
	}

	/** Drops the TCP connection without a closing handshake (what was sent before still goes out). */
	terminate(): void {
		this.#flush();
		this.#ws.terminate();
	}

	/** Hands what is corked to the kernel; destroying a corked socket would drop it. */
	#flush(): void {
		if (!this.#corked) return;
		this.#corked = false;
		this.#socket.uncork();
	}

	#onMessage(data: RawData, isBinary: boolean): void {
		// After close() ws still delivers frames until the handshake ends; uWS does not.
		if (this.#ws.readyState !== WebSocket.OPEN) return;

		this.#alive = true;

		if (isBinary) {
			this.close(BINARY_FRAME_CLOSE.code, BINARY_FRAME_CLOSE.reason);

			return;
		}

		const text = rawToString(data);

		safeCall('onMessage', () => this.onMessage(text));
	}
}

export class NodeListener implements Listener {
	readonly kind = 'node' as const;
	readonly #opts: ListenerOptions;
	readonly #wss: WebSocketServer;
	/** Subprotocol chosen by opts.upgrade, read back by ws's handleProtocols. */
	readonly #chosenProtocol = new WeakMap<IncomingMessage, string>();
	readonly #connections = new Set<NodeConnection>();
	readonly #servers: http.Server[] = [];
	#httpsServer: https.Server | undefined;
	#serversClosed: Promise<void> | undefined;
	#heartbeat: NodeJS.Timeout | undefined;
	#bufferBudget: NodeJS.Timeout | undefined;
	#closing: Promise<void> | undefined;
	#state: 'new' | 'listening' | 'draining' | 'closed' = 'new';

	constructor(opts: ListenerOptions) {
		this.#opts = opts;
		this.#wss = new WebSocketServer({
			noServer: true,
			clientTracking: false,
			maxPayload: opts.maxMessageBytes,
			perMessageDeflate: false,
			handleProtocols: (_offered, req) => this.#chosenProtocol.get(req) || false
		});
	}

	async listen(): Promise<{ port: number; httpsPort: number | undefined }> {
		if (this.#state !== 'new') throw new Error(`listen() called on a ${this.#state} listener`);

		this.#state = 'listening';

		try {
			const plain = http.createServer(this.#serverOptions(), (req, res) => void this.#onRequest(req, res, false));

			this.#addServer(plain, false);

			const port = await listenOn(plain, this.#opts.port, this.#opts.host);
			let httpsPort: number | undefined;

			if (this.#opts.tls) {
				const { cert, key } = await loadTls(this.#opts.tls);

				this.#assertStillStarting();

				const secure = https.createServer({ ...this.#serverOptions(), cert, key }, (req, res) => void this.#onRequest(req, res, true));

				this.#httpsServer = secure;
				this.#addServer(secure, true);
				httpsPort = await listenOn(secure, this.#opts.httpsPort, this.#opts.host);
			}

			this.#heartbeat = setInterval(() => {
				for (const connection of this.#connections) connection.heartbeat();
			}, HEARTBEAT_INTERVAL_MS);
			this.#bufferBudget = setInterval(() => {
				const dropped = enforceBufferBudget(this.#connections, this.#opts.maxBufferedTotal);

				if (dropped) debug('unsent data over %d bytes in all: dropped %d sockets', this.#opts.maxBufferedTotal, dropped);
			}, BUFFER_BUDGET_INTERVAL_MS);
			// The servers keep the process alive, not these timers.
			this.#heartbeat.unref();
			this.#bufferBudget.unref();

			debug('listening [host:%s, port:%d, httpsPort:%s]', this.#opts.host, port, httpsPort ?? '-');

			return { port, httpsPort };
		} catch (error) {
			await this.close();
			throw error;
		}
	}

	/** stopAccepting() or close() during listen() must not be followed by a new server. */
	#assertStillStarting(): void {
		if (this.#state !== 'listening') throw new Error('listener stopped while starting');
	}

	stopAccepting(): void {
		if (this.#serversClosed) return;

		// Before listen() too: a listener told to stop never starts.
		if (this.#state === 'new' || this.#state === 'listening') this.#state = 'draining';

		// server.close() only resolves once every connection ended (upgraded
		// sockets included), so it is awaited by close(), not here.
		this.#serversClosed = Promise.all(
			this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
		).then(() => undefined);

		debug('stopped accepting');
	}

	async reloadTls(): Promise<void> {
		if (!this.#opts.tls) return;

		const { cert, key } = await loadTls(this.#opts.tls);

		// Only new handshakes use the new context; open connections are untouched.
		this.#httpsServer?.setSecureContext({ cert, key });
		debug('TLS certificate reloaded');
	}

	close(): Promise<void> {
		this.#closing ??= this.#close();

		return this.#closing;
	}

	async #close(): Promise<void> {
		this.#state = 'closed';
		clearInterval(this.#heartbeat);
		clearInterval(this.#bufferBudget);
		this.stopAccepting();

		const gone = [...this.#connections].map((connection) => {
			connection.terminate();

			return connection.closed;
		});

		// Idle keep-alive and in-flight HTTP connections would hold server.close() open.
		for (const server of this.#servers) server.closeAllConnections();

		this.#wss.close();
		await Promise.all([...gone, this.#serversClosed]);
		debug('closed');
	}

	/** Slow clients (headers a byte at a time, a body never finished, idle keep-alive) are not held forever. */
	#serverOptions(): http.ServerOptions {
		const { headers, request, keepAlive } = this.#opts.httpTimeouts;

		return {
			headersTimeout: headers * 1000,
			requestTimeout: request * 1000,
			keepAliveTimeout: keepAlive * 1000,
			// How often node looks for requests over those timeouts (its default, 30 s, would add up to 30 s).
			connectionsCheckingInterval: Math.min(1000, headers * 500)
		};
	}

	#addServer(server: http.Server, secure: boolean): void {
		this.#servers.push(server);
		server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head, secure));
	}

	async #onRequest(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
		// The endpoints are GETs: a body, if any, is discarded so keep-alive still works.
		req.resume();

		const { path } = splitUrl(req.url ?? '/');
		const request: HttpRequest = { method: req.method ?? 'GET', path, headers: readHeaders(req), remoteAddress: normalizeAddress(req.socket.remoteAddress ?? '') };
		const response = await handleHttp(this.#opts.http, request, secure);

		if (res.destroyed) return;
		const headers = Object.fromEntries(
			Object.entries(response.headers).filter(([name]) => name.toLowerCase() !== 'content-length')
		);

		res.writeHead(response.status, { ...headers, 'content-length': Buffer.byteLength(response.body) });
		res.end(response.body);
	}

	#onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
		// Until ws owns the socket, a reset must not become an uncaught 'error'.
		socket.on('error', (error) => debug('upgrade socket error: %s', error.message));

		const { path, query } = splitUrl(req.url ?? '/');
		const remoteAddress = normalizeAddress(req.socket.remoteAddress ?? '');
		const decision = decideUpgrade(
			this.#opts.upgrade,
			{
				path,
				origin: req.headers.origin ?? '',
				protocols: splitProtocols(req.headers['sec-websocket-protocol'] ?? ''),
				remoteAddress,
				forwardedFor: [req.headers['x-forwarded-for'] ?? ''].flat().join(', '),
				secure,
				query: new URLSearchParams(query)
			},
			this.#state === 'listening'
		);

		if (!decision.accept) {
			debug('upgrade refused [address:%s, status:%d, reason:%s]', remoteAddress, decision.status, decision.reason);
			refuseUpgrade(socket, decision.status, decision.reason, secure);

			return;
		}

		const client = decision.client ?? { address: remoteAddress, token: undefined };

		this.#chosenProtocol.set(req, decision.protocol);
		this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, remoteAddress, socket, client));
	}

	#onConnection(ws: WebSocket, remoteAddress: string, socket: Duplex, client: ClientInfo): void {
		const connection = new NodeConnection(ws, remoteAddress, socket, client);

		this.#connections.add(connection);
		void connection.closed.then(() => this.#connections.delete(connection));
		debug('connection [address:%s, protocol:%s]', remoteAddress, ws.protocol || '-');

		if (!safeCall('connection handler', () => this.#opts.connection(connection))) {
			connection.close(1011, 'internal error');
		}
	}
}
