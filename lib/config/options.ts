// Every configuration option, once: its environment variable, its CLI flag,
// its type, default and description. The loader, `--help`, .env.example and
// the README's table are all derived from this list.

import os from 'node:os';

export type OptionType = 'string' | 'integer' | 'number' | 'boolean';

export interface OptionSpec {
	/** Key in the Config object. */
	key: string;
	/** Environment variable (also read from .env). */
	env: string;
	type: OptionType;
	/** Default value; undefined means "not set". */
	default: string | number | boolean | undefined;
	/** Allowed values for string options with a fixed set. */
	choices?: readonly string[];
	min?: number;
	max?: number;
	description: string;
}

const defaultWorkers = Math.max(1, Math.min(os.availableParallelism(), 4));

export const OPTIONS = [
	{ key: 'nodeEnv', env: 'NODE_ENV', type: 'string', default: 'production', choices: ['production', 'development', 'test'], description: 'Environment; outside development a missing announced address is a loud warning' },
	{ key: 'host', env: 'HOST', type: 'string', default: '0.0.0.0', description: 'Interface the HTTP/WebSocket listener binds' },
	{ key: 'port', env: 'PORT', type: 'integer', default: 3000, min: 0, max: 65535, description: 'HTTP + WebSocket (ws://) port; 0 picks a free port' },
	{ key: 'httpsPort', env: 'HTTPS_PORT', type: 'integer', default: 3443, min: 0, max: 65535, description: 'HTTPS + WebSocket (wss://) port, used when SSL_CERT_PATH and SSL_KEY_PATH are set' },
	{ key: 'frontendUrl', env: 'FRONTEND_URL', type: 'string', default: 'http://localhost:3000', description: 'Origin(s) allowed by CORS and for WebSocket upgrades, comma-separated; * allows any' },
	{ key: 'sslCertPath', env: 'SSL_CERT_PATH', type: 'string', default: undefined, description: 'TLS certificate (PEM, full chain) for HTTPS/WSS' },
	{ key: 'sslKeyPath', env: 'SSL_KEY_PATH', type: 'string', default: undefined, description: 'TLS private key (PEM) for HTTPS/WSS' },
	{ key: 'listener', env: 'LISTENER', type: 'string', default: 'auto', choices: ['auto', 'uws', 'node'], description: 'WebSocket/HTTP stack: uWebSockets.js, node:http + ws, or auto (uWS when it loads)' },
	{ key: 'rtcMinPort', env: 'MEDIASOUP_MIN_PORT', type: 'integer', default: 40000, min: 1024, max: 65535, description: 'Lowest RTC port (UDP and TCP)' },
	{ key: 'rtcMaxPort', env: 'MEDIASOUP_MAX_PORT', type: 'integer', default: 49999, min: 1024, max: 65535, description: 'Highest RTC port (UDP and TCP)' },
	{ key: 'listenIp', env: 'MEDIASOUP_LISTEN_IP', type: 'string', default: '0.0.0.0', description: 'IP the media transports bind' },
	{ key: 'announcedIp', env: 'MEDIASOUP_ANNOUNCED_IP', type: 'string', default: undefined, description: "Public IP put in ICE candidates (REQUIRED in production behind NAT or when binding 0.0.0.0)" },
	{ key: 'announcedDomain', env: 'MEDIASOUP_ANNOUNCED_DOMAIN', type: 'string', default: undefined, description: 'Domain put in ICE candidates instead of the IP' },
	{ key: 'numWorkers', env: 'MEDIASOUP_NUM_WORKERS', type: 'integer', default: defaultWorkers, min: 1, max: 64, description: 'mediasoup worker processes (default: CPUs, at most 4)' },
	{ key: 'useWebRtcServer', env: 'MEDIASOUP_USE_WEBRTC_SERVER', type: 'boolean', default: true, description: 'One WebRtcServer per worker on fixed ports from MEDIASOUP_MIN_PORT (false: a port per transport from the range)' },
	{ key: 'maxPeersPerRoom', env: 'MAX_PEERS_PER_ROOM', type: 'integer', default: 7, min: 1, max: 1000, description: 'Peers a room holds; the next join is refused' },
	{ key: 'peerTimeout', env: 'PEER_TIMEOUT', type: 'number', default: 60, min: 0.1, max: 86400, description: 'Seconds a connected peer may stay silent (no request, no heartbeat) before it is removed' },
	{ key: 'reconnectGrace', env: 'RECONNECT_GRACE', type: 'number', default: 30, min: 0, max: 3600, description: "Seconds a dropped peer's transports, producers and consumers are kept for rejoinRoom" },
	{ key: 'roomIdleTimeout', env: 'ROOM_IDLE_TIMEOUT', type: 'number', default: 1800, min: 0.1, max: 604800, description: 'Seconds a room with no peers lives before it is closed' },
	{ key: 'maxMessageBytes', env: 'MAX_MESSAGE_BYTES', type: 'integer', default: 131072, min: 1024, max: 16777216, description: 'Largest WebSocket message accepted; larger ones close the connection' },
	{ key: 'initialOutgoingBitrate', env: 'INITIAL_OUTGOING_BITRATE', type: 'integer', default: 1000000, min: 100000, max: 100000000, description: 'Bits/s the server starts sending to each peer at (bandwidth estimation goes from there)' },
	{ key: 'maxIncomingBitrate', env: 'MAX_INCOMING_BITRATE', type: 'integer', default: 2500000, min: 100000, max: 100000000, description: 'Cap in bits/s on what one peer may send (camera + screen + audio)' },
	{ key: 'maxDownlinkBitrate', env: 'MAX_DOWNLINK_BITRATE', type: 'integer', default: 2000000, min: 100000, max: 100000000, description: 'Cap in bits/s on what the server sends one peer; within it the peer\'s bandwidth estimate rules, and layers are picked by the downlink budget policy' },
	{ key: 'maxDataMessageBytes', env: 'MAX_DATA_MESSAGE_BYTES', type: 'integer', default: 16384, min: 1024, max: 262144, description: "Largest data channel message (the transports' SCTP maxMessageSize)" },
	{ key: 'dataMessagesPerSecond', env: 'DATA_MESSAGES_PER_SECOND', type: 'integer', default: 50, min: 1, max: 10000, description: 'Messages per second one data producer may send; beyond it the server pauses it for the rest of the second' },
	{ key: 'drainTimeout', env: 'DRAIN_TIMEOUT', type: 'number', default: 3600, min: 0, max: 604800, description: 'Seconds a drain (SIGUSR2 or POST /admin/drain) waits for calls to end before exiting' },
	{ key: 'adminToken', env: 'ADMIN_TOKEN', type: 'string', default: undefined, description: 'Bearer token (at least 32 characters) for POST /admin/drain on the ops listener; unset disables the admin endpoint' },
	{ key: 'opsHost', env: 'OPS_HOST', type: 'string', default: '127.0.0.1', description: 'Interface the ops listener (/metrics, /admin/*, /health with internals) binds; keep it on loopback or a private network' },
	{ key: 'opsPort', env: 'OPS_PORT', type: 'integer', default: 3090, min: -1, max: 65535, description: 'Plain HTTP port of the ops listener; 0 picks a free port, -1 disables it (no /metrics, no /admin/*)' },
	{ key: 'allowInsecureWs', env: 'ALLOW_INSECURE_WS', type: 'boolean', default: false, description: 'With TLS on, still accept WebSocket upgrades on the plain HTTP port (reconnect tokens and join tokens then travel in clear)' },
	{ key: 'authMode', env: 'AUTH_MODE', type: 'string', default: 'none', choices: ['none', 'jwt'], description: 'none: anyone who reaches the port creates and joins rooms; jwt: createRoom/joinRoom/rejoinRoom need a signed join token' },
	{ key: 'authSecret', env: 'AUTH_SECRET', type: 'string', default: undefined, description: 'HS256 key for join tokens (at least 32 bytes); scripts/deploy.sh generates one' },
	{ key: 'authPublicKey', env: 'AUTH_PUBLIC_KEY', type: 'string', default: undefined, description: 'Instead of AUTH_SECRET: a PEM public key (or the path of one) for EdDSA, ES256 or RS256 join tokens signed by the app backend' },
	{ key: 'maxRooms', env: 'MAX_ROOMS', type: 'integer', default: 500, min: 1, max: 1000000, description: 'Rooms the server holds at once; the next createRoom gets 503' },
	{ key: 'maxPeers', env: 'MAX_PEERS', type: 'integer', default: 2000, min: 1, max: 10000000, description: 'Peers in all rooms at once (disconnected ones in their grace included); the next join gets 503' },
	{ key: 'maxConnectionsPerIp', env: 'MAX_CONNECTIONS_PER_IP', type: 'integer', default: 20, min: 1, max: 1000000, description: 'Open WebSockets per client IP; the next upgrade gets HTTP 429' },
	{ key: 'trustProxy', env: 'TRUST_PROXY', type: 'boolean', default: false, description: 'Take the client IP from the last X-Forwarded-For entry (only behind a reverse proxy that sets it)' },
	{ key: 'roomCreatesPerMinute', env: 'ROOM_CREATES_PER_MINUTE', type: 'integer', default: 10, min: 1, max: 1000000, description: 'Rooms one client IP may create per minute; more get 429' },
	{ key: 'requestRate', env: 'REQUEST_RATE', type: 'number', default: 20, min: 0.1, max: 1000000, description: 'Requests per second a connection may send on average (token bucket); more get 429' },
	{ key: 'requestBurst', env: 'REQUEST_BURST', type: 'integer', default: 60, min: 1, max: 1000000, description: 'Size of the request token bucket; a connection refused this many requests in a row is closed (4000)' },
	{ key: 'maxRequestsInFlight', env: 'MAX_REQUESTS_IN_FLIGHT', type: 'integer', default: 8, min: 1, max: 10000, description: 'Unanswered requests one connection may have; more get 429' },
	{ key: 'maxRoomQueue', env: 'MAX_ROOM_QUEUE', type: 'integer', default: 100, min: 1, max: 100000, description: "Requests waiting in one room's queue; more get 429" },
	{ key: 'joinTimeout', env: 'JOIN_TIMEOUT', type: 'number', default: 30, min: 0.1, max: 3600, description: 'Seconds a connection may stay without a room before it is closed' },
	{ key: 'maxBufferedTotal', env: 'MAX_BUFFERED_TOTAL', type: 'integer', default: 268435456, min: 1048576, max: 68719476736, description: 'Bytes of unsent WebSocket data across all connections; over it the connections holding most are closed' },
	{ key: 'httpHeadersTimeout', env: 'HTTP_HEADERS_TIMEOUT', type: 'number', default: 10, min: 1, max: 600, description: 'Seconds a client has to send the HTTP request headers (node listener; uWS has its own 10 s)' },
	{ key: 'httpRequestTimeout', env: 'HTTP_REQUEST_TIMEOUT', type: 'number', default: 30, min: 1, max: 3600, description: 'Seconds a whole HTTP request may take (node listener)' },
	{ key: 'httpKeepAliveTimeout', env: 'HTTP_KEEPALIVE_TIMEOUT', type: 'number', default: 5, min: 0.1, max: 600, description: 'Seconds an idle keep-alive HTTP connection is kept (node listener)' },
	{ key: 'turnUrls', env: 'TURN_URLS', type: 'string', default: undefined, description: 'TURN server URLs handed to clients, comma-separated (e.g. turn:turn.example.com:3478,turns:turn.example.com:5349)' },
	{ key: 'turnSecret', env: 'TURN_SECRET', type: 'string', default: undefined, description: "Shared secret with the TURN server (coturn's static-auth-secret) for time-limited credentials" },
	{ key: 'turnCredentialTtl', env: 'TURN_CREDENTIAL_TTL', type: 'integer', default: 3600, min: 60, max: 604800, description: 'Seconds a TURN credential stays valid' },
	{ key: 'redisUrl', env: 'REDIS_URL', type: 'string', default: undefined, description: 'Cluster mode: the Redis (e.g. redis://10.0.0.5:6379) holding the node registry and room directory and relaying between nodes; unset: one node alone' },
	{ key: 'nodeId', env: 'NODE_ID', type: 'string', default: undefined, description: "Cluster mode: this node's id, unique in the cluster (default: host name:port)" },
	{ key: 'clusterHeartbeat', env: 'CLUSTER_HEARTBEAT', type: 'number', default: 2, min: 0.1, max: 60, description: "Cluster mode: seconds between a node's registry refreshes (load, draining) and its look at the others" },
	{ key: 'clusterNodeTtl', env: 'CLUSTER_NODE_TTL', type: 'number', default: 6, min: 0.3, max: 600, description: "Cluster mode: seconds a node's registry entry lives unrefreshed; then the others take it for dead (more than CLUSTER_HEARTBEAT)" },
	{ key: 'clusterHostsRooms', env: 'CLUSTER_HOSTS_ROOMS', type: 'boolean', default: true, description: 'Cluster mode: false makes this node an edge that takes connections and relays them but gets no rooms placed on it (unless no other node is up)' },
	{ key: 'relayTimeout', env: 'RELAY_TIMEOUT', type: 'number', default: 5, min: 0.1, max: 300, description: 'Cluster mode: seconds a request relayed to the hosting node may take; then 503' },
	{ key: 'shutdownTimeout', env: 'SHUTDOWN_TIMEOUT', type: 'number', default: 8, min: 0.1, max: 600, description: 'Seconds the graceful shutdown may take before the process exits anyway' }
] as const satisfies readonly OptionSpec[];

type Spec = (typeof OPTIONS)[number];

type ValueOf<S extends Spec> = S['type'] extends 'boolean'
	? boolean
	: S['type'] extends 'integer' | 'number'
		? number
		: S extends { choices: readonly (infer C)[] }
			? C
			: string;

/** The resolved configuration. Options without a default may be undefined. */
export type Config = {
	[S in Spec as S['key']]: S['default'] extends undefined ? ValueOf<S> | undefined : ValueOf<S>;
};

/** What a caller may pass to override options (tests, embedding). */
export type ConfigInput = Partial<Config>;
