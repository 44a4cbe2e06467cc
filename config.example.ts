// Every option of the server with its default. Each can be set by its
// environment variable (also read from .env, or from /etc/vcall/env under
// systemd), by a command-line flag (`node dist/server/main.js --help`), or,
// when embedding the server, by passing these keys to loadConfig({ overrides }).
// A test checks that this file names every option with its real default.

import type { Config } from './lib/config/options.js';

const example = {
	// NODE_ENV: production | development | test. Outside development a
	// missing announced address is a loud warning.
	nodeEnv: 'production',
	// HOST: interface the HTTP/WebSocket listener binds.
	host: '0.0.0.0',
	// PORT: HTTP + ws:// port (0 = any free port).
	port: 3000,
	// HTTPS_PORT: HTTPS + wss:// port, used when both SSL paths are set.
	httpsPort: 3443,
	// FRONTEND_URL: origin(s) allowed by CORS and for WebSocket upgrades,
	// comma-separated; '*' allows any. Clients that send no Origin pass.
	frontendUrl: 'http://localhost:3000',
	// SSL_CERT_PATH / SSL_KEY_PATH: PEM certificate chain and key.
	sslCertPath: undefined,
	sslKeyPath: undefined,
	// LISTENER: auto (uWebSockets.js when its binary loads, else node:http + ws), uws, node.
	listener: 'auto',
	// MEDIASOUP_MIN_PORT / MEDIASOUP_MAX_PORT: RTC ports, UDP and TCP. With the
	// WebRtcServer, worker i uses MIN_PORT + i.
	rtcMinPort: 40000,
	rtcMaxPort: 49999,
	// MEDIASOUP_LISTEN_IP: IP the media transports bind.
	listenIp: '0.0.0.0',
	// MEDIASOUP_ANNOUNCED_IP: the public IP in ICE candidates. Required in production.
	announcedIp: undefined,
	// MEDIASOUP_ANNOUNCED_DOMAIN: a domain announced instead of the IP.
	announcedDomain: undefined,
	// MEDIASOUP_NUM_WORKERS: mediasoup worker processes (default: CPUs, at most 4).
	numWorkers: 2,
	// MEDIASOUP_USE_WEBRTC_SERVER: one WebRtcServer (fixed UDP+TCP port) per
	// worker; false gives each transport its own port from the range.
	useWebRtcServer: true,
	// MAX_PEERS_PER_ROOM: the next join is refused with error 429.
	maxPeersPerRoom: 7,
	// PEER_TIMEOUT: seconds of silence (no request, no heartbeat) before a peer is removed.
	peerTimeout: 60,
	// RECONNECT_GRACE: seconds a dropped peer's media state waits for rejoinRoom.
	reconnectGrace: 30,
	// ROOM_IDLE_TIMEOUT: seconds an empty room lives.
	roomIdleTimeout: 1800,
	// MAX_MESSAGE_BYTES: larger WebSocket messages close the connection.
	maxMessageBytes: 131072,
	// INITIAL_OUTGOING_BITRATE: bits/s the server starts sending to a peer at.
	initialOutgoingBitrate: 1000000,
	// MAX_INCOMING_BITRATE: cap in bits/s on what one peer may send.
	maxIncomingBitrate: 2500000,
	// MAX_DOWNLINK_BITRATE: cap in bits/s on what the server sends one peer
	// (audio, then screen shares, then the active speaker, then the others).
	maxDownlinkBitrate: 2000000,
	// MAX_DATA_MESSAGE_BYTES: largest data channel message (SCTP maxMessageSize).
	maxDataMessageBytes: 16384,
	// DATA_MESSAGES_PER_SECOND: beyond it a data producer is paused for the rest of the second.
	dataMessagesPerSecond: 50,
	// DRAIN_TIMEOUT: seconds a drain (SIGUSR2, or POST /admin/drain) lets
	// calls go on before the process exits anyway.
	drainTimeout: 3600,
	// ADMIN_TOKEN: enables POST /admin/drain on the ops listener with
	// 'Authorization: Bearer <token>'; at least 32 characters.
	adminToken: undefined,
	// OPS_HOST / OPS_PORT: the ops listener (/metrics, /admin/*, /health with
	// internals), plain HTTP. Keep it on loopback or a private network; the
	// firewall opens it to nobody. OPS_PORT=-1 disables it.
	opsHost: '127.0.0.1',
	opsPort: 3090,
	// ALLOW_INSECURE_WS: with TLS on, still accept ws:// on the plain port.
	allowInsecureWs: false,
	// AUTH_MODE: none | jwt. With jwt, joins need a token signed with
	// AUTH_SECRET (HS256, >= 32 bytes) or by the key of AUTH_PUBLIC_KEY (PEM
	// text or path; EdDSA, ES256, RS256).
	authMode: 'none',
	authSecret: undefined,
	authPublicKey: undefined,
	// Quotas: rooms and peers per server, connections per IP (TRUST_PROXY:
	// the IP from X-Forwarded-For), room creations per IP per minute.
	maxRooms: 500,
	maxPeers: 2000,
	maxConnectionsPerIp: 20,
	trustProxy: false,
	roomCreatesPerMinute: 10,
	// Per connection: a token bucket of REQUEST_BURST requests refilled at
	// REQUEST_RATE per second, and at most MAX_REQUESTS_IN_FLIGHT unanswered.
	requestRate: 20,
	requestBurst: 60,
	maxRequestsInFlight: 8,
	// MAX_ROOM_QUEUE: requests waiting in one room's queue.
	maxRoomQueue: 100,
	// JOIN_TIMEOUT: seconds a connection may stay without a room.
	joinTimeout: 30,
	// MAX_BUFFERED_TOTAL: unsent WebSocket bytes across all connections.
	maxBufferedTotal: 268435456,
	// HTTP timeouts of the node listener, in seconds.
	httpHeadersTimeout: 10,
	httpRequestTimeout: 30,
	httpKeepAliveTimeout: 5,
	// TURN_URLS / TURN_SECRET: TURN servers (coturn with use-auth-secret)
	// handed to clients with time-limited credentials in createWebRtcTransport.
	turnUrls: undefined,
	turnSecret: undefined,
	// TURN_CREDENTIAL_TTL: seconds a TURN credential stays valid.
	turnCredentialTtl: 3600,
	// SHUTDOWN_TIMEOUT: seconds a graceful stop may take.
	shutdownTimeout: 8,
	// REDIS_URL: cluster mode (README "Cluster"); unset, this node stands alone.
	redisUrl: undefined,
	// NODE_ID: this node's id in the cluster (default: host name:port).
	nodeId: undefined,
	// CLUSTER_HEARTBEAT: seconds between registry refreshes.
	clusterHeartbeat: 2,
	// CLUSTER_NODE_TTL: seconds an unrefreshed registry entry lives; then the node is dead.
	clusterNodeTtl: 6,
	// CLUSTER_HOSTS_ROOMS: false makes an edge node that relays but gets no rooms placed on it.
	clusterHostsRooms: true,
	// RELAY_TIMEOUT: seconds a relayed request may take (503 beyond).
	relayTimeout: 5
} satisfies Record<keyof Config, unknown>;

export default example;
