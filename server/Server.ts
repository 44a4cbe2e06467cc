// The composition root: the listener delivers HTTP requests and WebSocket
// frames, the protocol turns frames into validated requests, the rooms answer
// them on mediasoup workers. Tests start this class directly.

import debugFactory from 'debug';
import { JoinTokens } from '../lib/auth/JoinTokens.js';
import { Cluster, type ClusterView } from '../lib/cluster/Cluster.js';
import { resolveAnnounced } from '../lib/config/announced.js';
import type { Config } from '../lib/config/options.js';
import { createHttpHandler, createUpgradeCheck, opsRoutes, type HealthState } from '../lib/http/endpoints.js';
import { OpsServer } from '../lib/http/OpsServer.js';
import { createListener } from '../lib/listener/index.js';
import { CloseCode, type Listener, type ListenerKind, type WsConnection } from '../lib/listener/types.js';
import { ConnectionCounter } from '../lib/limits/ConnectionCounter.js';
import { Cooldowns } from '../lib/limits/Cooldowns.js';
import { log } from '../lib/log.js';
import { Metrics } from '../lib/http/metrics.js';
import { WorkerPool } from '../lib/media/WorkerPool.js';
import { ProtooConnection } from '../lib/protocol/ProtooConnection.js';
import { Rooms } from '../lib/rooms/Rooms.js';

const debug = debugFactory('vcall:server');
/** How long an address closed for flooding is refused (HTTP 429 at the upgrade). */
const FLOOD_COOLDOWN_MS = 10_000;

export interface ServerAddress {
	port: number;
	httpsPort: number | undefined;
	/** The ops listener's port; undefined with OPS_PORT=-1. */
	opsPort: number | undefined;
}

function httpTimeouts(config: Config): { headers: number; request: number; keepAlive: number } {
	return { headers: config.httpHeadersTimeout, request: config.httpRequestTimeout, keepAlive: config.httpKeepAliveTimeout };
}

export class Server {
	readonly config: Config;
	readonly workers: WorkerPool;
	readonly rooms: Rooms;
	readonly #startedAt = Date.now();
	#listener: Listener | undefined;
	#listenerReason = '';
	/** /metrics, /admin/*, /health with internals; undefined with OPS_PORT=-1. */
	readonly ops: OpsServer | undefined;
	#resolveClosed!: () => void;
	readonly #closedPromise = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
	#address: ServerAddress | undefined;
	readonly #metrics: Metrics;
	readonly #connections = new ConnectionCounter();
	/** Addresses closed for flooding, refused at the upgrade for FLOOD_COOLDOWN_MS. */
	readonly #flooders = new Cooldowns(FLOOD_COOLDOWN_MS);
	#state: 'starting' | 'running' | 'draining' | 'shutting-down' | 'closed' = 'starting';
	#drainTimer: NodeJS.Timeout | undefined;
	/** Cluster mode (REDIS_URL) only. */
	#cluster: Cluster | undefined;

	static async start(input: Config): Promise<Server> {
		const { config, warning } = resolveAnnounced(input);

		if (warning) log.warn(warning);
		if (config.authMode === 'none' && config.nodeEnv === 'production')
			log.warn('AUTH_MODE=none: ANYONE WHO REACHES THIS PORT CAN CREATE AND JOIN ROOMS AND GET TURN CREDENTIALS. Set AUTH_MODE=jwt and AUTH_SECRET (scripts/deploy.sh does), see the README\'s threat model.');

		const server = new Server(config, await JoinTokens.create(config));

		try {
			await server.#start();
		} catch (error) {
			await server.close();
			throw error;
		}

		return server;
	}

	private constructor(config: Config, tokens: JoinTokens) {
		this.config = config;
		this.workers = new WorkerPool(config);
		this.rooms = new Rooms(config, this.workers, tokens);
		this.#metrics = new Metrics(this.rooms, this.workers);

		if (config.opsPort >= 0) {
			const ops = new OpsServer({ host: config.opsHost, port: config.opsPort, httpTimeouts: httpTimeouts(config) });

			for (const [path, handler] of Object.entries(opsRoutes({ config, health: () => this.health(), drain: () => void this.drain(), cluster: () => this.clusterView() }))) ops.route(path, handler);
			this.ops = ops.route('/metrics', this.#metrics.route);
		}
	}

	get address(): ServerAddress {
		if (!this.#address) throw new Error('server is not listening');

		return this.#address;
	}

	get listenerKind(): ListenerKind {
		if (!this.#listener) throw new Error('server is not listening');

		return this.#listener.kind;
	}

	/** Resolves once the server has closed (after a shutdown or a drain). */
	get done(): Promise<void> {
		return this.#closedPromise;
	}

	get shuttingDown(): boolean {
		return this.#state === 'shutting-down' || this.#state === 'closed';
	}

	health(): HealthState {
		const workers = this.workers.workers.length;
		const cluster = this.#cluster?.health();
		const degraded = workers === 0 || (cluster !== undefined && cluster.redis !== 'ready');
		const status = this.shuttingDown ? 'shutting-down' : this.#state === 'draining' ? 'draining' : degraded ? 'degraded' : 'healthy';

		return {
			status,
			uptime: Math.round((Date.now() - this.#startedAt) / 1000),
			rooms: this.rooms.roomCount,
			peers: this.rooms.peerCount,
			workers,
			auth: this.config.authMode,
			listener: { kind: this.#listener?.kind ?? 'none', reason: this.#listenerReason },
			media: this.rooms.mediaCounts(),
			limits: {
				rooms: { open: this.rooms.roomCount, max: this.config.maxRooms },
				peers: { open: this.rooms.peerCount, max: this.config.maxPeers },
				connections: { open: this.#connections.total, addresses: this.#connections.addresses, maxPerIp: this.config.maxConnectionsPerIp },
				sessions: this.rooms.sessionCount
			},
			...(cluster ? { cluster } : {})
		};
	}

	/** Cluster mode: every live node's load and state, for the ops listener; undefined for a node alone. */
	clusterView(): ClusterView | undefined {
		return this.#cluster?.view();
	}

	/**
	 * Drain for a deploy: /health turns 503 'draining', new rooms are refused,
	 * calls in progress go on until the last peer has left or DRAIN_TIMEOUT
	 * passes; then a graceful shutdown. Resolves when the server is closed.
	 */
	drain(): Promise<void> {
		if (this.#state !== 'running') return this.#closedPromise;
		this.#state = 'draining';
		this.rooms.stopAcceptingRooms();
		this.#cluster?.drain();
		log.info(`draining: ${this.rooms.roomCount} rooms in progress, new rooms refused, at most ${this.config.drainTimeout}s`);

		const finish = (reason: string) => void this.shutdown(reason);

		this.#drainTimer = setTimeout(() => finish('drainTimeout'), this.config.drainTimeout * 1000);
		// Empty rooms need not wait for their idle timeout.
		if (this.rooms.peerCount === 0) finish('drained');
		// setImmediate: let the last leaveRoom response go out first.
		else this.rooms.on('peers', (count) => count === 0 && setImmediate(finish, 'drained'));

		return this.#closedPromise;
	}

	/** Re-reads the TLS certificate and key (SIGHUP after a renewal). */
	async reloadTls(): Promise<void> {
		if (!this.config.sslCertPath) return;
		await this.#listener?.reloadTls();
		log.info('TLS certificate reloaded');
	}

	/**
	 * Graceful stop: refuse new connections, tell every peer roomClosed with
	 * the reason, close all connections, then the workers. Works even when the
	 * workers are already going away (a signal reaches the whole process group).
	 */
	async shutdown(reason = 'shutdown'): Promise<void> {
		if (this.shuttingDown) return;
		this.#state = 'shutting-down';
		log.info(`shutting down: ${reason}`);
		this.#listener?.stopAccepting();
		const answering = this.#cluster?.answered();

		if (answering) await answering;
		this.#cluster?.handOff();
		this.rooms.closeAll(reason);
		await this.close();
	}

	/** Frees everything without notifying anyone (also used after a failed start). */
	async close(): Promise<void> {
		if (this.#state === 'closed') return;
		this.#state = 'closed';
		clearTimeout(this.#drainTimer);
		this.rooms.closeAll('shutdown');
		await this.#cluster?.close();
		this.workers.close();
		await Promise.all([this.#listener?.close(), this.ops?.close()]);
		this.#resolveClosed();
	}

	async #start(): Promise<void> {
		await this.workers.start();

		const config = this.config;
		const { listener, reason } = await createListener(config.listener, {
			host: config.host,
			port: config.port,
			httpsPort: config.httpsPort,
			tls: config.sslCertPath && config.sslKeyPath ? { certPath: config.sslCertPath, keyPath: config.sslKeyPath } : undefined,
			maxMessageBytes: config.maxMessageBytes,
			maxBufferedTotal: config.maxBufferedTotal,
			httpTimeouts: httpTimeouts(config),
			http: createHttpHandler({ config, health: () => this.health() }),
			upgrade: createUpgradeCheck({
				config,
				accepting: () => !this.shuttingDown,
				connectionsFrom: (address) => this.#connections.count(address),
				coolingDown: (address) => this.#flooders.remaining(address)
			}),
			connection: (ws) => this.#accept(ws)
		});

		this.#listener = listener;
		this.#listenerReason = reason;
		const address = { ...(await listener.listen()), opsPort: await this.ops?.listen() };

		this.#address = address;
		if (config.redisUrl) this.#cluster = new Cluster({ config, rooms: this.rooms, workers: this.workers, port: address.port, relayed: this.#metrics.relayed });
		this.#state = 'running';

		const tls = address.httpsPort !== undefined ? `, https/wss :${address.httpsPort}` : '';
		const ops = address.opsPort !== undefined ? `; ops (/metrics, /admin) on ${config.opsHost}:${address.opsPort}` : '; ops listener disabled';

		log.info(`listening on ${config.host} http/ws :${address.port}${tls} with ${listener.kind} (${reason}); ${this.workers.workers.length} mediasoup workers${ops}`);
	}

	#accept(ws: WsConnection): void {
		const { config } = this;
		const { address } = ws.client;
		const limits = { rate: config.requestRate, burst: config.requestBurst, maxInFlight: config.maxRequestsInFlight };

		this.#connections.add(address);
		new ProtooConnection(ws, limits, (channel) => {
			const session = this.rooms.open(channel, ws.client);
			const route = this.#cluster?.route(session, (reason) => ws.close(CloseCode.RESTART, reason));

			return {
				request: (request) => (route ? route.handle(request) : this.rooms.handle(session, request)),
				activity: () => this.rooms.touch(session),
				answered: this.#metrics.observe,
				flooded: () => this.#flooders.add(address),
				closed: () => {
					this.#connections.remove(address);
					if (route) this.#cluster?.unroute(route);
					this.rooms.closed(session);
				}
			};
		});
		debug('connection from %s', ws.remoteAddress);
	}
}
