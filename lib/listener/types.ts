// The contract between the network layer and the rest of the server.
// Two implementations exist (uWebSockets.js and node:http + ws); nothing
// above this folder knows which one is running.

export type ListenerKind = 'uws' | 'node';

/** WebSocket close codes the server uses for intentional closes. */
export const CloseCode = {
	/** protoo-client does not reconnect after this code (also: sustained request flooding, join timeout). */
	FINAL: 4000,
	/** The node restarts (cluster hand-off): protoo-client reconnects, through the load balancer to another node, and rejoins. */
	RESTART: 1012
} as const;

/** A minimal HTTP request: the endpoints only need these. */
export interface HttpRequest {
	method: string;
	/** Path without the query string. */
	path: string;
	/** Lower-cased header names. */
	headers: Record<string, string>;
	remoteAddress: string;
}

export interface HttpResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
}

export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** What the listener knows about a WebSocket upgrade request. */
export interface UpgradeRequest {
	path: string;
	/** Value of the Origin header, or '' when absent. */
	origin: string;
	/** Subprotocols offered in Sec-WebSocket-Protocol. */
	protocols: string[];
	remoteAddress: string;
	/** Value of the X-Forwarded-For header, or '' when absent. */
	forwardedFor: string;
	/** Arrived on the TLS (wss://) port. */
	secure: boolean;
	/** Query string parameters. */
	query: URLSearchParams;
}

/** What the upgrade check learned about the client; the connection carries it. */
export interface ClientInfo {
	/** The client's IP (from X-Forwarded-For behind a trusted proxy). */
	address: string;
	/** A join token from the URL's ?token=, if any. */
	token: string | undefined;
}

/**
 * Decides an upgrade: either accept with the subprotocol to echo, or refuse
 * with an HTTP status and a short reason.
 */
export type UpgradeDecision =
	| { accept: true; protocol: string; client?: ClientInfo }
	| { accept: false; status: number; reason: string };

/** One accepted WebSocket connection, listener-agnostic. */
export interface WsConnection {
	readonly remoteAddress: string;
	/** From the upgrade decision; by default the remote address and no token. */
	readonly client: ClientInfo;
	/** Bytes queued for this socket and not yet sent. */
	bufferedAmount(): number;
	/** Sends one text frame (a string, or its UTF-8 bytes). Returns false when the connection is already closed. */
	send(text: string | Buffer): boolean;
	/** Closes with a code and reason (close codes 4000-4999 are ours). */
	close(code: number, reason: string): void;
	/** Set by the consumer of the connection. */
	onMessage: (text: string) => void;
	/** Called exactly once, when the connection is gone for any reason. */
	onClose: (code: number, reason: string) => void;
}

export interface TlsOptions {
	certPath: string;
	keyPath: string;
}

export interface ListenerOptions {
	/** Interface to bind, e.g. '0.0.0.0' or '127.0.0.1'. */
	host: string;
	/** Plain HTTP/WS port; 0 picks a free port. */
	port: number;
	/** HTTPS/WSS port; used only when tls is set. 0 picks a free port. */
	httpsPort: number;
	tls: TlsOptions | undefined;
	/** Largest accepted WebSocket message in bytes; larger ones close the socket. */
	maxMessageBytes: number;
	/** Unsent bytes across all sockets; over it the sockets holding most are dropped. */
	maxBufferedTotal: number;
	/** HTTP timeouts in seconds (the node listener; uWS has fixed ones). */
	httpTimeouts: { headers: number; request: number; keepAlive: number };
	http: HttpHandler;
	upgrade: (req: UpgradeRequest) => UpgradeDecision;
	/** A new accepted WebSocket. The handler sets onMessage/onClose synchronously. */
	connection: (conn: WsConnection) => void;
}

export interface Listener {
	readonly kind: ListenerKind;
	/** Starts listening; resolves with the bound ports (httpsPort undefined without TLS). */
	listen(): Promise<{ port: number; httpsPort: number | undefined }>;
	/** Stops accepting new connections (existing ones stay open). */
	stopAccepting(): void;
	/** Re-reads the TLS certificate and key for new connections. */
	reloadTls(): Promise<void>;
	/** Closes everything, including open connections. */
	close(): Promise<void>;
}
