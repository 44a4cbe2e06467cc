// The registry of rooms and of client sessions. A session is one connection
// and the peer it controls; requests that create, join or rejoin rooms are
// answered here, the rest go to the session's room.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import type { Config } from '../config/options.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import { ErrorCode, forbidden, invalidState, notFound, RequestError } from '../protocol/errors.js';
import type { PeerChannel } from '../protocol/ProtooConnection.js';
import type { Request, RequestData, Responses } from '../protocol/methods.js';
import type { Peer } from './Peer.js';
import { Room } from './Room.js';

const debug = debugFactory('vcall:rooms');

/** One client connection and the peer it speaks for, once joined. */
export class Session {
	readonly channel: PeerChannel;
	lastSeen = Date.now();
	room: Room | undefined;
	peer: Peer | undefined;

	constructor(channel: PeerChannel) {
		this.channel = channel;
	}

	/** The peer this session still controls (not left, not taken over, room open). */
	joined(): { room: Room; peer: Peer } | undefined {
		const { room, peer } = this;

		if (!room || !peer || room.closed || peer.closed || peer.channel !== this.channel) return undefined;

		return { room, peer };
	}
}

export interface RoomsEvents {
	/** The number of peers in all rooms changed. */
	peers: [count: number];
}

export class Rooms extends EventEmitter<RoomsEvents> {
	readonly #config: Config;
	readonly #workers: WorkerPool;
	readonly #rooms = new Map<string, Room>();
	readonly #sessions = new Set<Session>();
	readonly #sweepTimer: NodeJS.Timeout;
	#acceptingRooms = true;
	#peerCount = 0;

	constructor(config: Config, workers: WorkerPool) {
		super();
		this.#config = config;
		this.#workers = workers;
		// Silent peers are found by one sweep rather than a timer per peer.
		const sweepMs = Math.min(5000, Math.max(50, (config.peerTimeout * 1000) / 4));

		this.#sweepTimer = setInterval(() => this.#sweep(), sweepMs).unref();
	}

	get rooms(): IterableIterator<Room> {
		return this.#rooms.values();
	}

	get roomCount(): number {
		return this.#rooms.size;
	}

	/** Peers in all rooms, disconnected ones in their grace included. */
	get peerCount(): number {
		return this.#peerCount;
	}

	/** Transports, producers and consumers of all rooms (what /health reports). */
	mediaCounts(): { transports: number; producers: number; consumers: number } {
		const media = { transports: 0, producers: 0, consumers: 0 };

		for (const room of this.#rooms.values()) {
			const counts = room.counts();

			media.transports += counts.transports;
			media.producers += counts.producers;
			media.consumers += counts.consumers;
		}

		return media;
	}

	get sessionCount(): number {
		return this.#sessions.size;
	}

	/** Refuses createRoom from now on (draining, shutdown). */
	stopAcceptingRooms(): void {
		this.#acceptingRooms = false;
	}

	/** Registers a new connection. */
	open(channel: PeerChannel): Session {
		const session = new Session(channel);

		this.#sessions.add(session);

		return session;
	}

	/** The connection is gone: its peer (if any) enters the reconnect grace. */
	closed(session: Session): void {
		this.#sessions.delete(session);

		const joined = session.joined();

		if (joined) joined.room.disconnected(joined.peer);
	}

	/** Any frame from the client counts as a sign of life. */
	touch(session: Session): void {
		session.lastSeen = Date.now();
	}

	async handle(session: Session, request: Request): Promise<Responses[Request['method']]> {
		switch (request.method) {
			case 'heartbeat':
				return { serverTime: Date.now() };
			case 'createRoom':
				return this.#createRoom(session, request.data.metadata);
			case 'joinRoom':
				return this.#joinRoom(session, request.data.roomId, request.data.metadata);
			case 'rejoinRoom':
				return this.#rejoinRoom(session, request.data);
			default: {
				const joined = session.joined();

				if (!joined) throw invalidState(`join a room before ${request.method}`);
				if (joined.room.id !== request.data.roomId) throw forbidden(`you are not in room ${request.data.roomId}`);

				return joined.room.handle(joined.peer, request);
			}
		}
	}

	/** Closes every room with a reason each peer is told, then every connection. */
	closeAll(reason: string): void {
		this.stopAcceptingRooms();
		clearInterval(this.#sweepTimer);
		for (const room of [...this.#rooms.values()]) room.close(reason);
		for (const session of this.#sessions) session.channel.close(reason);
	}

	#assertNotJoined(session: Session): void {
		const joined = session.joined();

		if (joined) throw invalidState(`already in room ${joined.room.id}; leaveRoom first`);
	}

	async #createRoom(session: Session, metadata: Record<string, unknown>): Promise<Responses['createRoom']> {
		this.#assertNotJoined(session);
		if (!this.#acceptingRooms) throw new RequestError(ErrorCode.UNAVAILABLE, 'the server is not accepting new rooms');

		const worker = this.#workers.leastLoaded();

		if (!worker) throw new RequestError(ErrorCode.UNAVAILABLE, 'no media worker is available; try again shortly');

		const room = await Room.create(worker, this.#config);

		this.#register(room);

		const peer = await room.join(metadata, session.channel);

		this.#bind(session, room, peer);
		session.channel.notify('roomCreated', { roomId: room.id });

		return { roomId: room.id, peerId: peer.id, reconnectToken: peer.reconnectToken, peers: [] };
	}

	async #joinRoom(session: Session, roomId: string, metadata: Record<string, unknown>): Promise<Responses['joinRoom']> {
		this.#assertNotJoined(session);

		const room = this.#room(roomId);
		const peer = await room.join(metadata, session.channel);

		this.#bind(session, room, peer);

		return { roomId, peerId: peer.id, reconnectToken: peer.reconnectToken, peers: room.otherPeers(peer) };
	}

	async #rejoinRoom(session: Session, data: RequestData<'rejoinRoom'>): Promise<Responses['rejoinRoom']> {
		this.#assertNotJoined(session);

		const room = this.#room(data.roomId);
		const peer = await room.rejoin(data.peerId, data.reconnectToken, session.channel);

		this.#bind(session, room, peer);

		return {
			roomId: room.id,
			peerId: peer.id,
			peers: room.otherPeers(peer),
			producers: peer.producerInfos(),
			transports: [...peer.transports.values()].map((t) => ({ transportId: t.id, direction: t.appData.direction })),
			consumers: [...peer.consumers.values()].map((c) => ({ consumerId: c.id, producerId: c.producerId }))
		};
	}

	#room(roomId: string): Room {
		const room = this.#rooms.get(roomId);

		if (!room) throw notFound(`no room ${roomId}`);

		return room;
	}

	#bind(session: Session, room: Room, peer: Peer): void {
		session.room = room;
		session.peer = peer;
		// The connection may have dropped while the join waited in the room's queue.
		if (session.channel.closed) room.disconnected(peer);
	}

	#register(room: Room): void {
		this.#rooms.set(room.id, room);
		room.on('peers', (delta) => {
			room.mediaWorker.load += delta;
			this.#peerCount += delta;
			this.emit('peers', this.#peerCount);
		});
		room.once('closed', () => this.#rooms.delete(room.id));
		debug('room %s opened on worker %d', room.id, room.mediaWorker.index);
	}

	#sweep(): void {
		const deadline = Date.now() - this.#config.peerTimeout * 1000;

		for (const session of this.#sessions) {
			if (session.lastSeen >= deadline) continue;

			const joined = session.joined();

			debug('session silent for %ds, closing', this.#config.peerTimeout);
			// Unbind first, so closing the channel does not start a reconnect grace.
			session.room = undefined;
			session.peer = undefined;
			if (joined) void joined.room.remove(joined.peer, 'timeout');
			session.channel.close('timeout: no request or heartbeat');
		}
	}
}
