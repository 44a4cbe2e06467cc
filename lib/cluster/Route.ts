// The gateway of one client connection on its entry node: requests go to the
// local Rooms, or to the node hosting the connection's room through the relay.
// Joins (createRoom, joinRoom, rejoinRoom) pick that node; the rest follow.

import debugFactory from 'debug';
import { ErrorCode, invalidState, RequestError } from '../protocol/errors.js';
import type { NotificationMethod, Notifications, Request, Responses } from '../protocol/methods.js';
import type { Rooms, Session } from '../rooms/Rooms.js';
import type { RelayClient, RelaySink } from './RelayClient.js';

const debug = debugFactory('vcall:cluster:route');

/** Join methods: they choose the node; the session's other requests go where it joined. */
type JoinRequest = Extract<Request, { method: 'createRoom' | 'joinRoom' | 'rejoinRoom' }>;

export interface RouteContext {
	readonly nodeId: string;
	readonly rooms: Rooms;
	readonly relay: RelayClient;
	/** The node a join should run on (this one included). */
	target(request: JoinRequest): Promise<string>;
	/** A relayed request was answered, after `seconds` (for metrics). */
	relayed(method: string, errorCode: number | undefined, seconds: number): void;
}

/** A room may have moved on between the directory read and the request: follow at most this many redirects. */
const MAX_REDIRECTS = 2;

export class Route implements RelaySink {
	readonly #context: RouteContext;
	readonly #session: Session;
	readonly #connection: string;
	readonly #handOff: (reason: string) => void;
	/** The node hosting the session's room; undefined: this node. */
	#node: string | undefined;
	/** Joined on #node (as far as the answers and notifications relayed so far tell). */
	#joinedRoom: string | undefined;
	#joining = false;

	/** `handOff` ends the client connection so that the client reconnects (not a final close). */
	constructor(context: RouteContext, session: Session, handOff: (reason: string) => void) {
		this.#context = context;
		this.#session = session;
		this.#handOff = handOff;
		this.#connection = context.relay.attach(this);
	}

	/** The node requests go to now (this one's id when local). */
	get node(): string {
		return this.#node ?? this.#context.nodeId;
	}

	handle(request: Request): Promise<Responses[Request['method']]> {
		switch (request.method) {
			case 'createRoom':
			case 'joinRoom':
			case 'rejoinRoom':
				return this.#join(request);
			default:
				return this.#node === undefined ? this.#context.rooms.handle(this.#session, request) : this.#relay(this.#node, request);
		}
	}

	/** The client connection closed. */
	closed(): void {
		this.#context.relay.detach(this.#connection);
		if (this.#node !== undefined) this.#context.relay.closed(this.#node, this.#connection);
	}

	/**
	 * This node stops: a client whose room is on another node reconnects
	 * (through the load balancer, elsewhere) and rejoins; its peer waits on
	 * the host in the reconnect grace and its media never stopped.
	 */
	handOff(): boolean {
		if (this.#node === undefined) return false;
		this.#handOff('this node is restarting: reconnect');

		return true;
	}

	/** The hosting node died: its room is gone, as if it had closed. */
	nodeDied(nodeId: string): void {
		if (this.#node !== nodeId) return;
		if (this.#joinedRoom !== undefined) this.#session.channel.notify('roomClosed', { reason: 'nodeDied' });
		debug('connection %s: host %s died', this.#connection, nodeId);
		this.#unbind();
	}

	notify(method: NotificationMethod, data: unknown): void {
		if (method === 'roomClosed') this.#joinedRoom = undefined;
		this.#session.channel.notify(method, data as Notifications[typeof method]);
	}

	end(reason: string): void {
		this.#session.channel.close(reason);
	}

	async #join(request: JoinRequest): Promise<Responses[Request['method']]> {
		if (this.#joining) throw invalidState('a createRoom, joinRoom or rejoinRoom is already in progress');
		if (this.#node === undefined) this.#context.rooms.assertCanJoin(this.#session);
		else if (this.#joinedRoom !== undefined) throw invalidState(`already in room ${this.#joinedRoom}; leaveRoom first`);
		this.#joining = true;
		try {
			let target = await this.#context.target(request);

			for (let redirects = 0; ; redirects++) {
				if (target !== this.#node && this.#node !== undefined) {
					// Leave the unjoined session on the previous host behind.
					this.#context.relay.closed(this.#node, this.#connection);
					this.#unbind();
				}
				if (target === this.#context.nodeId) return await this.#context.rooms.handle(this.#session, request);

				this.#node = target;
				this.#session.relayed = true;

				const outcome = await this.#send(target, request);

				if ('redirect' in outcome && redirects < MAX_REDIRECTS) {
					target = outcome.redirect;
					continue;
				}

				const answer = this.#answer(outcome);

				this.#joinedRoom = (answer as Responses[JoinRequest['method']]).roomId;

				return answer;
			}
		} finally {
			this.#joining = false;
		}
	}

	async #relay(nodeId: string, request: Request): Promise<Responses[Request['method']]> {
		const answer = this.#answer(await this.#send(nodeId, request));

		if (request.method === 'leaveRoom') this.#joinedRoom = undefined;

		return answer;
	}

	async #send(nodeId: string, request: Request): Promise<Awaited<ReturnType<RelayClient['request']>>> {
		const started = process.hrtime.bigint();
		const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;

		try {
			const outcome = await this.#context.relay.request(nodeId, this.#connection, this.#session.client, request.method, request.data);

			this.#context.relayed(request.method, 'code' in outcome ? outcome.code : undefined, seconds());

			return outcome;
		} catch (error) {
			if (error instanceof RequestError) this.#context.relayed(request.method, error.code, seconds());
			throw error;
		}
	}

	#answer(outcome: Awaited<ReturnType<RelayClient['request']>>): Responses[Request['method']] {
		if (outcome.ok) return outcome.data as Responses[Request['method']];
		if ('redirect' in outcome) throw new RequestError(ErrorCode.UNAVAILABLE, 'the room moved between nodes; try again');

		throw new RequestError(outcome.code as RequestError['code'], outcome.message);
	}

	#unbind(): void {
		this.#node = undefined;
		this.#joinedRoom = undefined;
		this.#session.relayed = false;
		this.#session.unjoinedSince = Date.now();
	}
}
