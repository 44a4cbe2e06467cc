// The node registry: each node keeps a hash with a TTL (its load, whether it
// drains, how to reach it) and reads everyone's at each heartbeat. A node
// whose entry expired is dead; the first node to notice cleans up after it.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

const debug = debugFactory('vcall:cluster:registry');

/** What a node publishes about itself. */
export interface NodeLoad {
	rooms: number;
	peers: number;
	/** Worker CPU over the last heartbeat, in percent of one core (summed over workers). */
	cpu: number;
	/** Out of placement: draining, or an edge node (CLUSTER_HOSTS_ROOMS=false). */
	draining: boolean;
}

export interface NodeInfo extends NodeLoad {
	id: string;
	/** The node's HTTP/WebSocket address (host:port) as it listens. */
	address: string;
	/** The address its ICE candidates announce (media goes straight there). */
	announced: string;
	/** Its relay channel. */
	channel: string;
	/** ms since the epoch of its last refresh. */
	seen: number;
}

export interface NodeRegistryEvents {
	/** A node has no entry any more (seen alive before, or left in the set by its last run). */
	died: [nodeId: string];
}

export interface RegistryOptions {
	self: Omit<NodeInfo, keyof NodeLoad | 'seen'>;
	ttlMs: number;
}

function parse(id: string, hash: Record<string, string>): NodeInfo | undefined {
	if (hash.id !== id) return undefined;

	return {
		id,
		address: hash.address ?? '',
		announced: hash.announced ?? '',
		channel: hash.channel ?? keys.channel(id),
		rooms: Number(hash.rooms),
		peers: Number(hash.peers),
		cpu: Number(hash.cpu),
		draining: hash.draining === '1',
		seen: Number(hash.seen)
	};
}

export class NodeRegistry extends EventEmitter<NodeRegistryEvents> {
	readonly #redis: Redis;
	readonly #self: RegistryOptions['self'];
	readonly #ttlMs: number;
	/** The live nodes as last read (this one included once registered). */
	#nodes = new Map<string, NodeInfo>();
	/** Death is not declared until this time: after Redis came back every node needs a heartbeat to re-register. */
	#trustAfter = 0;

	constructor(redis: Redis, options: RegistryOptions) {
		super();
		this.#redis = redis;
		this.#self = options.self;
		this.#ttlMs = options.ttlMs;
	}

	get nodes(): NodeInfo[] {
		return [...this.#nodes.values()];
	}

	/** Redis came back (maybe emptied by a restart): missing entries mean nothing for one TTL. */
	reconnected(): void {
		this.#trustAfter = Date.now() + this.#ttlMs;
	}

	/** Writes this node's entry and renews its TTL. */
	async publish(load: NodeLoad): Promise<void> {
		const key = keys.node(this.#self.id);
		const entry = { ...this.#self, ...load, draining: load.draining ? '1' : '0', seen: Date.now() };

		await this.#redis.multi().hset(key, entry).pexpire(key, this.#ttlMs).sadd(keys.nodes, this.#self.id).exec();
	}

	/** Reads every node's entry; emits `died` for nodes that were alive and are gone. */
	async refresh(): Promise<NodeInfo[]> {
		const ids = await this.#redis.smembers(keys.nodes);
		const pipeline = this.#redis.pipeline();

		for (const id of ids) pipeline.hgetall(keys.node(id));

		const replies = (await pipeline.exec()) ?? [];
		const nodes = new Map<string, NodeInfo>();
		const gone: string[] = [];

		ids.forEach((id, i) => {
			const info = parse(id, (replies[i]?.[1] ?? {}) as Record<string, string>);

			if (info) nodes.set(id, info);
			else gone.push(id);
		});

		const previous = this.#nodes;

		this.#nodes = nodes;
		if (Date.now() < this.#trustAfter) {
			// Not known dead yet: keep them until they have had time to re-register.
			for (const [id, info] of previous) if (!nodes.has(id)) nodes.set(id, info);

			return this.nodes;
		}
		if (gone.length > 0) await this.#redis.srem(keys.nodes, ...gone);
		// Another node may have removed a dead one from the set before this read.
		const died = new Set([...gone, ...[...previous.keys()].filter((id) => !nodes.has(id))]);

		died.delete(this.#self.id);
		for (const id of died) {
			debug('node %s died', id);
			this.emit('died', id);
		}

		return this.nodes;
	}

	/** Whether a node is alive as last read. */
	alive(nodeId: string): boolean {
		return this.#nodes.has(nodeId);
	}

	/** Removes this node's entry (graceful stop): the others need not wait for the TTL. */
	async unregister(): Promise<void> {
		await this.#redis.multi().del(keys.node(this.#self.id)).srem(keys.nodes, this.#self.id).exec();
	}
}
