// The entry node's side of the relay: sends a client's requests to the node
// hosting its room and waits for the answer, at most RELAY_TIMEOUT (then
// 503). Notifications and ends coming back are handed to the connection's
// route.

import debugFactory from 'debug';
import type { ClientInfo } from '../listener/types.js';
import { ErrorCode, RequestError } from '../protocol/errors.js';
import type { NotificationMethod } from '../protocol/methods.js';
import { keys } from './keys.js';
import type { RelayEnd, RelayNotification, RelayOutcome, RelayResponse } from './messages.js';
import type { RedisLink } from './RedisLink.js';

const debug = debugFactory('vcall:cluster:relay');

/** Where a hosting node's messages for one connection go. */
export interface RelaySink {
	notify(method: NotificationMethod, data: unknown): void;
	end(reason: string): void;
}

interface Pending {
	nodeId: string;
	resolve: (outcome: RelayOutcome) => void;
	reject: (error: RequestError) => void;
	timer: NodeJS.Timeout;
}

export class RelayClient {
	readonly #link: RedisLink;
	readonly #nodeId: string;
	readonly #timeoutMs: number;
	readonly #pending = new Map<number, Pending>();
	readonly #sinks = new Map<string, RelaySink>();
	#nextId = 0;
	#nextConnection = 0;

	constructor(link: RedisLink, nodeId: string, timeoutMs: number) {
		this.#link = link;
		this.#nodeId = nodeId;
		this.#timeoutMs = timeoutMs;
	}

	/** A connection id for a new client connection, and where its messages go. */
	attach(sink: RelaySink): string {
		const connection = String(++this.#nextConnection);

		this.#sinks.set(connection, sink);

		return connection;
	}

	/** Sends one request to the hosting node; rejects with 503 when it does not answer in time. */
	request(nodeId: string, connection: string, client: ClientInfo, method: string, data: unknown): Promise<RelayOutcome> {
		const id = ++this.#nextId;

		return new Promise<RelayOutcome>((resolve, reject) => {
			const timer = setTimeout(() => this.#fail(id, `node ${nodeId} did not answer ${method} within ${this.#timeoutMs} ms`), this.#timeoutMs);

			this.#pending.set(id, { nodeId, resolve, reject, timer });
			void this.#link.publish(keys.channel(nodeId), { kind: 'request', from: this.#nodeId, id, connection, client, method, data }).then((sent) => {
				if (!sent) this.#fail(id, 'the cluster link (Redis) is down; try again shortly');
			});
		});
	}

	/** The client connection is gone: the hosting node lets its peer go into the reconnect grace. */
	closed(nodeId: string, connection: string): void {
		void this.#link.publish(keys.channel(nodeId), { kind: 'closed', from: this.#nodeId, connection });
	}

	detach(connection: string): void {
		this.#sinks.delete(connection);
	}

	/** A node died: its unanswered requests fail now rather than at the timeout. */
	nodeDied(nodeId: string): void {
		for (const [id, pending] of this.#pending) if (pending.nodeId === nodeId) this.#fail(id, `node ${nodeId} is gone`);
	}

	onResponse(message: RelayResponse): void {
		const pending = this.#pending.get(message.id);

		if (!pending) return debug('late answer %d dropped', message.id);
		this.#pending.delete(message.id);
		clearTimeout(pending.timer);
		pending.resolve(message.outcome);
	}

	onNotification(message: RelayNotification): void {
		this.#sinks.get(message.connection)?.notify(message.method as NotificationMethod, message.data);
	}

	onEnd(message: RelayEnd): void {
		this.#sinks.get(message.connection)?.end(message.reason);
	}

	close(): void {
		for (const id of this.#pending.keys()) this.#fail(id, 'the server is shutting down');
	}

	#fail(id: number, why: string): void {
		const pending = this.#pending.get(id);

		if (!pending) return;
		this.#pending.delete(id);
		clearTimeout(pending.timer);
		pending.reject(new RequestError(ErrorCode.UNAVAILABLE, why));
	}
}
