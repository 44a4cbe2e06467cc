// The node's two Redis connections: one for commands and publishing, one
// subscribed to the node's own channel. Commands fail at once while Redis is
// unreachable (no offline queue): callers fall back to local behaviour rather
// than wait. ioredis reconnects by itself and resubscribes.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import { Redis } from 'ioredis';
import { log } from '../log.js';
import type { RelayMessage } from './messages.js';

const debug = debugFactory('vcall:cluster:redis');

export type RedisState = 'connecting' | 'ready' | 'down';

export interface RedisLinkEvents {
	/** Connected (again): the node re-registers. */
	ready: [];
	down: [];
	message: [message: RelayMessage];
}

/** Reconnect quickly: a node without Redis serves only its own rooms. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 1000);

export class RedisLink extends EventEmitter<RedisLinkEvents> {
	readonly commands: Redis;
	readonly #subscriber: Redis;
	#state: RedisState = 'connecting';
	#closed = false;

	constructor(url: string, channel: string) {
		super();
		this.commands = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy, connectionName: 'vcall' });
		// The subscription is queued until connected, and renewed on each reconnect.
		this.#subscriber = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, connectionName: 'vcall-relay' });
		this.commands.on('ready', () => this.#setState('ready'));
		this.commands.on('close', () => this.#setState('down'));
		for (const connection of [this.commands, this.#subscriber]) connection.on('error', (error: Error) => debug('redis: %s', error.message));
		this.#subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.#onMessage(payload));
		void this.#subscriber.subscribe(channel).catch((error: Error) => debug('subscribe failed: %s', error.message));
	}

	get state(): RedisState {
		return this.#state;
	}

	get ready(): boolean {
		return this.#state === 'ready';
	}

	/** Sends to another node's channel; false when Redis is unreachable. */
	async publish(channel: string, message: RelayMessage): Promise<boolean> {
		if (!this.ready) return false;
		try {
			await this.commands.publish(channel, JSON.stringify(message));

			return true;
		} catch (error) {
			debug('publish failed: %s', (error as Error).message);

			return false;
		}
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.removeAllListeners('ready');
		this.removeAllListeners('down');
		await Promise.all([this.commands, this.#subscriber].map((c) => c.quit().catch(() => c.disconnect())));
	}

	#setState(state: RedisState): void {
		if (this.#closed || state === this.#state) return;

		const previous = this.#state;

		this.#state = state;
		if (state === 'ready') {
			if (previous === 'down') log.info('cluster: Redis is back; re-registering');
			this.emit('ready');
		} else {
			log.warn('cluster: Redis unreachable; serving the rooms hosted here, new rooms open here');
			this.emit('down');
		}
	}

	#onMessage(payload: Buffer): void {
		let message: RelayMessage;

		try {
			message = JSON.parse(payload.toString('utf8')) as RelayMessage;
		} catch {
			debug('unparsable relay message dropped');

			return;
		}
		this.emit('message', message);
	}
}
