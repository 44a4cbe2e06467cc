// Cluster mode (REDIS_URL): this node's place among the others. It keeps the
// node registry entry fresh, claims room ids in the directory, places new
// rooms on the least-loaded live node, relays the requests of connections
// whose room is elsewhere, and ends relayed rooms whose node died. Without
// Redis it degrades to a node alone and recovers when Redis returns.

import os from 'node:os';
import debugFactory from 'debug';
import type { Config } from '../config/options.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import { log } from '../log.js';
import type { Rooms, Session } from '../rooms/Rooms.js';
import { HostedSessions } from './HostedSessions.js';
import { keys } from './keys.js';
import { NodeRegistry, type NodeInfo, type NodeLoad } from './NodeRegistry.js';
import { RedisLink, type RedisState } from './RedisLink.js';
import { RelayClient } from './RelayClient.js';
import { RoomDirectory } from './RoomDirectory.js';
import { Route, type RouteContext } from './Route.js';

const debug = debugFactory('vcall:cluster');

/** What /health shows of the cluster. */
export interface ClusterHealth {
	nodeId: string;
	redis: RedisState;
	nodesAlive: number;
	/** Sessions here whose client is connected to another node. */
	relayedIn: number;
}

/** The ops view: every live node's registry entry. */
export interface ClusterView extends ClusterHealth {
	nodes: NodeInfo[];
}

export interface ClusterOptions {
	config: Config;
	rooms: Rooms;
	workers: WorkerPool;
	/** The port the listener got (the default node id is host name:port). */
	port: number;
	/** Metrics of relayed requests. */
	relayed: RouteContext['relayed'];
}

/** Least loaded first: peers plus rooms (a room holds a router), then CPU, then id (deterministic ties). */
function lessLoaded(a: NodeInfo, b: NodeInfo): number {
	return a.peers + a.rooms - (b.peers + b.rooms) || a.cpu - b.cpu || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class Cluster implements RouteContext {
	readonly nodeId: string;
	readonly rooms: Rooms;
	readonly relay: RelayClient;
	readonly relayed: RouteContext['relayed'];
	readonly #config: Config;
	readonly #workers: WorkerPool;
	readonly #link: RedisLink;
	readonly #registry: NodeRegistry;
	readonly #directory: RoomDirectory;
	readonly #hosted: HostedSessions;
	readonly #routes = new Set<Route>();
	readonly #timer: NodeJS.Timeout;
	#draining = false;
	#cpu = { seconds: 0, at: process.hrtime.bigint(), percent: 0 };
	#closed = false;

	constructor({ config, rooms, workers, port, relayed }: ClusterOptions) {
		if (config.clusterNodeTtl <= config.clusterHeartbeat) throw new Error('CLUSTER_NODE_TTL must be longer than CLUSTER_HEARTBEAT');

		const nodeId = config.nodeId ?? `${os.hostname()}:${port}`;

		this.nodeId = nodeId;
		this.rooms = rooms;
		this.relayed = relayed;
		this.#config = config;
		this.#workers = workers;
		this.#link = new RedisLink(config.redisUrl!, keys.channel(nodeId));
		this.#registry = new NodeRegistry(this.#link.commands, {
			self: { id: nodeId, address: `${config.host}:${port}`, announced: config.announcedIp ?? config.announcedDomain ?? config.listenIp, channel: keys.channel(nodeId) },
			ttlMs: config.clusterNodeTtl * 1000
		});
		this.#directory = new RoomDirectory(this.#link.commands, nodeId, () => this.#link.ready);
		this.relay = new RelayClient(this.#link, nodeId, config.relayTimeout * 1000);
		this.#hosted = new HostedSessions(this.#link, rooms);
		rooms.claimWith(this.#directory);
		this.#link.on('message', (message) => {
			switch (message.kind) {
				case 'request':
					return this.#hosted.onRequest(message);
				case 'closed':
					return this.#hosted.onClosed(message);
				case 'response':
					return this.relay.onResponse(message);
				case 'notification':
					return this.relay.onNotification(message);
				case 'end':
					return this.relay.onEnd(message);
				default:
					throw new Error(`unknown relay message ${JSON.stringify(message satisfies never)}`);
			}
		});
		this.#link.on('ready', () => void this.#registered());
		this.#registry.on('died', (id) => this.#nodeDied(id));
		// Load changes are published at once, so placement elsewhere sees them before this node's next answer.
		rooms.on('peers', () => void this.#publish());
		this.#timer = setInterval(() => void this.#heartbeat(), config.clusterHeartbeat * 1000);
	}

	/** The gateway of a new client connection; `handOff` ends it with a code the client reconnects after. */
	route(session: Session, handOff: (reason: string) => void): Route {
		const route = new Route(this, session, handOff);

		this.#routes.add(route);

		return route;
	}

	/** The connection of a route closed. */
	unroute(route: Route): void {
		this.#routes.delete(route);
		route.closed();
	}

	async target(request: Parameters<RouteContext['target']>[0]): Promise<string> {
		if (request.method === 'createRoom') return this.#placement();

		const host = await this.#directory.host(request.data.roomId, (id) => id === this.nodeId || this.#registry.alive(id));

		if (host !== undefined) return host;
		// With join tokens, joinRoom may open the app's room: that follows placement too.
		if (request.method === 'joinRoom' && this.#config.authMode === 'jwt') return this.#placement();

		return this.nodeId;
	}

	/** Shutdown: connections relayed to rooms elsewhere reconnect (to other nodes) instead of ending. */
	handOff(): void {
		let count = 0;

		for (const route of this.#routes) if (route.handOff()) count++;
		if (count > 0) log.info(`cluster: ${count} connections to rooms on other nodes told to reconnect`);
	}

	/** Out of placement at once (the node drains). */
	drain(): void {
		this.#draining = true;
		void this.#publish();
	}

	health(): ClusterHealth {
		return { nodeId: this.nodeId, redis: this.#link.state, nodesAlive: this.#registry.nodes.length, relayedIn: this.#hosted.count };
	}

	view(): ClusterView {
		return { ...this.health(), nodes: this.#registry.nodes };
	}

	/** Leaves the registry (the others need not wait for the TTL) and closes the Redis connections. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		this.relay.close();
		if (this.#link.ready) await this.#registry.unregister().catch((error: Error) => debug('unregister failed: %s', error.message));
		await this.#link.close();
	}

	/** The least-loaded live node that is not draining; this node when Redis is away or nothing else fits. */
	async #placement(): Promise<string> {
		if (!this.#link.ready) return this.nodeId;

		const nodes = await this.#registry.refresh().catch(() => []);
		const self = { ...nodes.find((n) => n.id === this.nodeId)!, id: this.nodeId, ...this.#load() };
		const candidates = [...nodes.filter((n) => n.id !== this.nodeId), self].filter((n) => !n.draining);

		return candidates.sort(lessLoaded)[0]?.id ?? this.nodeId;
	}

	#load(): NodeLoad {
		// An edge node (CLUSTER_HOSTS_ROOMS=false) is out of placement like a draining one.
		return { rooms: this.rooms.roomCount, peers: this.rooms.peerCount, cpu: this.#cpu.percent, draining: this.#draining || !this.#config.clusterHostsRooms };
	}

	async #publish(): Promise<void> {
		if (!this.#link.ready || this.#closed) return;
		await this.#registry.publish(this.#load()).catch((error: Error) => debug('registry refresh failed: %s', error.message));
	}

	/** Connected (again): back in the registry, claims renewed (a restarted Redis holds nothing). */
	async #registered(): Promise<void> {
		this.#registry.reconnected();
		await this.#publish();
		await this.#directory.resync([...this.rooms.rooms].map((room) => room.id)).catch((error: Error) => debug('resync failed: %s', error.message));
		debug('registered as %s', this.nodeId);
	}

	async #heartbeat(): Promise<void> {
		await this.#measureCpu();
		if (!this.#link.ready) return;
		await this.#publish();
		await this.#registry.refresh().catch((error: Error) => debug('registry read failed: %s', error.message));
	}

	/** Worker CPU since the last heartbeat, in percent of one core. */
	async #measureCpu(): Promise<void> {
		const usages = await Promise.all(this.#workers.workers.map(({ worker }) => worker.getResourceUsage().catch(() => undefined)));
		const seconds = usages.reduce((sum, u) => sum + (u ? (u.ru_utime + u.ru_stime) / 1000 : 0), 0);
		const at = process.hrtime.bigint();
		const elapsed = Number(at - this.#cpu.at) / 1e9;

		this.#cpu = { seconds, at, percent: elapsed > 0 ? Math.max(0, Math.round(((seconds - this.#cpu.seconds) / elapsed) * 100)) : 0 };
	}

	#nodeDied(nodeId: string): void {
		this.relay.nodeDied(nodeId);
		this.#hosted.nodeDied(nodeId);
		for (const route of this.#routes) route.nodeDied(nodeId);
		void this.#directory.forget(nodeId).catch((error: Error) => debug('cleanup of %s failed: %s', nodeId, error.message));
	}
}
