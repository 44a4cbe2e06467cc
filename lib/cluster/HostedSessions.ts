// The hosting node's side of the relay: a client connected to another node
// gets a Session here like a local one, whose channel publishes its
// notifications back to that node. Requests run through the same Rooms code
// (and so the same room AwaitQueue) as local ones, in the order they came.

import debugFactory from 'debug';
import { describeError, log } from '../log.js';
import { ErrorCode, RequestError } from '../protocol/errors.js';
import type { OutgoingNotification } from '../protocol/messages.js';
import type { PeerChannel } from '../protocol/ProtooConnection.js';
import { validateRequest, type NotificationMethod, type Notifications } from '../protocol/methods.js';
import { RoomElsewhereError } from '../rooms/claims.js';
import type { Rooms, Session } from '../rooms/Rooms.js';
import { keys } from './keys.js';
import type { RelayClosed, RelayOutcome, RelayRequest } from './messages.js';
import type { RedisLink } from './RedisLink.js';

const debug = debugFactory('vcall:cluster:hosted');

/** A client connection on another node, as the rooms here see it. */
class RemoteChannel implements PeerChannel {
	readonly #link: RedisLink;
	readonly #channel: string;
	readonly #connection: string;
	readonly #onClose: () => void;
	#closed = false;

	constructor(link: RedisLink, nodeId: string, connection: string, onClose: () => void) {
		this.#link = link;
		this.#channel = keys.channel(nodeId);
		this.#connection = connection;
		this.#onClose = onClose;
	}

	get closed(): boolean {
		return this.#closed;
	}

	notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void {
		this.#publish(method, data);
	}

	/** The entry node encodes the frame for its own socket: only method and data travel. */
	deliver(notification: OutgoingNotification): void {
		this.#publish(notification.method, notification.data);
	}

	#publish(method: string, data: unknown): void {
		if (this.#closed) return;
		void this.#link.publish(this.#channel, { kind: 'notification', connection: this.#connection, method, data });
	}

	close(reason: string): void {
		if (this.#closed) return;
		void this.#link.publish(this.#channel, { kind: 'end', connection: this.#connection, reason });
		this.gone();
	}

	/** The entry node reported the connection closed, or died. */
	gone(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#onClose();
	}
}

export class HostedSessions {
	readonly #link: RedisLink;
	readonly #rooms: Rooms;
	/** By entry node id, then connection id. */
	readonly #sessions = new Map<string, Map<string, { session: Session; channel: RemoteChannel }>>();

	constructor(link: RedisLink, rooms: Rooms) {
		this.#link = link;
		this.#rooms = rooms;
	}

	get count(): number {
		let count = 0;

		for (const byConnection of this.#sessions.values()) count += byConnection.size;

		return count;
	}

	onRequest(message: RelayRequest): void {
		const { session } = this.#session(message);

		this.#rooms.touch(session);
		void this.#answer(session, message).then((outcome) =>
			this.#link.publish(keys.channel(message.from), { kind: 'response', id: message.id, outcome })
		);
	}

	onClosed(message: RelayClosed): void {
		this.#sessions.get(message.from)?.get(message.connection)?.channel.gone();
	}

	/** An entry node died: its clients' peers go into the reconnect grace (they will reconnect elsewhere). */
	nodeDied(nodeId: string): void {
		for (const { channel } of [...(this.#sessions.get(nodeId)?.values() ?? [])]) channel.gone();
	}

	#session(message: RelayRequest): { session: Session; channel: RemoteChannel } {
		let byConnection = this.#sessions.get(message.from);

		if (!byConnection) this.#sessions.set(message.from, (byConnection = new Map()));

		const existing = byConnection.get(message.connection);

		if (existing) return existing;

		const connections = byConnection;
		const channel = new RemoteChannel(this.#link, message.from, message.connection, () => {
			connections.delete(message.connection);
			if (connections.size === 0) this.#sessions.delete(message.from);
			this.#rooms.closed(entry.session);
		});
		const entry = { session: this.#rooms.open(channel, message.client), channel };

		connections.set(message.connection, entry);
		debug('session for %s/%s', message.from, message.connection);

		return entry;
	}

	async #answer(session: Session, message: RelayRequest): Promise<RelayOutcome> {
		try {
			// Validated on the entry node already; parsed again for the types (and its defaults).
			const data = await this.#rooms.handle(session, validateRequest(message.method, message.data));

			return { ok: true, data };
		} catch (error) {
			if (error instanceof RoomElsewhereError) return { ok: false, redirect: error.nodeId };
			if (error instanceof RequestError) return { ok: false, code: error.code, message: error.message };
			log.error(`relayed request ${message.method} failed: ${describeError(error)}`);

			return { ok: false, code: ErrorCode.INTERNAL, message: 'internal error' };
		}
	}
}
