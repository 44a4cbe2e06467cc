// A cluster under test: a real redis-server and real server processes in
// cluster mode, each on RTC ports of its own (so a transport's candidates say
// which node made it). Used by the cluster tests, the E2E and the benchmark.

import { Redis } from 'ioredis';
import type { ConfigInput } from '../../lib/config/options.js';
import { freePort } from './listeners.js';
import { RedisServer } from './redis.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';

export interface ClusterNode {
	id: string;
	process: ServerProcess;
	/** The WebRtcServer's port (one worker): every ICE candidate of this node has it. */
	rtcPort: number;
}

interface Health {
	status: string;
	rooms: number;
	peers: number;
	cluster?: { nodeId: string; redis: string; nodesAlive: number };
}

export class TestCluster {
	readonly redis: RedisServer;
	readonly nodes: ClusterNode[] = [];
	readonly #overrides: ConfigInput;
	/** The test's own look into the directory. */
	readonly #client: Redis;

	private constructor(redis: RedisServer, overrides: ConfigInput) {
		this.redis = redis;
		this.#overrides = overrides;
		this.#client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
		this.#client.on('error', () => undefined);
	}

	static async start(count: number, overrides: ConfigInput = {}): Promise<TestCluster> {
		const cluster = new TestCluster(await RedisServer.start(), overrides);

		try {
			await Promise.all(Array.from({ length: count }, (_, i) => cluster.addNode(`n${i + 1}`)));
			await cluster.settled();
		} catch (error) {
			await cluster.close();
			throw error;
		}

		return cluster;
	}

	async addNode(id: string, overrides: ConfigInput = {}): Promise<ClusterNode> {
		const rtcPort = await freePort();
		const process = await ServerProcess.start({
			overrides: { redisUrl: this.redis.url, nodeId: id, rtcMinPort: rtcPort, rtcMaxPort: rtcPort + 10, ...this.#overrides, ...overrides }
		});
		const node = { id, process, rtcPort };

		this.nodes.push(node);
		this.nodes.sort((a, b) => (a.id < b.id ? -1 : 1));

		return node;
	}

	node(id: string): ClusterNode {
		const node = this.nodes.find((n) => n.id === id);

		if (!node) throw new Error(`no node ${id}`);

		return node;
	}

	get live(): ClusterNode[] {
		return this.nodes.filter((n) => n.process.alive);
	}

	health(node: ClusterNode): Promise<Health> {
		return node.process.getJson<Health>('/health');
	}

	/** Every live node sees every live node, with Redis up. */
	async settled(): Promise<void> {
		const count = this.live.length;

		await waitFor(
			async () => {
				const healths = await Promise.all(this.live.map((n) => this.health(n)));

				return healths.every((h) => h.cluster?.redis === 'ready' && h.cluster.nodesAlive === count);
			},
			{ timeout: 20_000, interval: 100, what: `${count} nodes to see each other` }
		);
	}

	/** The node the directory says hosts a room. */
	async hostOf(roomId: string): Promise<string | null> {
		if (this.#client.status === 'wait') await this.#client.connect();

		return this.#client.get(`vcall:room:${roomId}`);
	}

	async close(): Promise<void> {
		await Promise.all(this.nodes.map((n) => n.process.stop()));
		this.#client.disconnect();
		await this.redis.stop();
	}
}
