// The registry of rooms and of client sessions. A session is one connection
// and the peer it controls; requests that create, join or rejoin rooms are
// answered here, the rest go to the session's room.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import type { Config } from '../config/options.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { JoinClaims } from '../auth/grants.js';
import type { JoinTokens } from '../auth/JoinTokens.js';
import { KeyedBuckets } from '../limits/TokenBucket.js';
import type { ClientInfo } from '../listener/types.js';
import { ErrorCode, forbidden, invalidState, notFound, rateLimited, RequestError } from '../protocol/errors.js';
import type { PeerChannel } from '../protocol/ProtooConnection.js';
import type { Request, RequestData, Responses } from '../protocol/methods.js';
import { randomId } from '../secrets.js';
import { LOCAL_CLAIMS, RoomElsewhereError, type RoomClaims } from './claims.js';
import type { Peer } from './Peer.js';
import { MEDIA_KINDS, Room, type MediaCounts } from './Room.js';

const debug = debugFactory('vcall:rooms');

/** One client connection and the peer it speaks for, once joined. */
export class Session {
	readonly channel: PeerChannel;
	readonly client: ClientInfo;
	lastSeen = Date.now();
	/** When the session last had no room (opened, or left one); undefined while joined. */
	unjoinedSince: number | undefined = Date.now();
	room: Room | undefined;
	peer: Peer | undefined;
	/** A createRoom, joinRoom or rejoinRoom is in flight: a second one would bind a second peer. */
	joining = false;
	/** The connection's peer lives on another node (lib/cluster): roomless here is not idle. */
	relayed = false;

	constructor(channel: PeerChannel, client: ClientInfo) {
		this.channel = channel;
		this.client = client;
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
	/** Rooms whose router is being created, by id (a symbol for unnamed ones). */
	readonly #opening = new Map<string | symbol, Promise<Room>>();
	readonly #tokens: JoinTokens;
	readonly #roomCreates: KeyedBuckets;
	readonly #sweepTimer: NodeJS.Timeout;
	#claims: RoomClaims = LOCAL_CLAIMS;
	#acceptingRooms = true;
	#peerCount = 0;

	constructor(config: Config, workers: WorkerPool, tokens: JoinTokens) {
		super();
		this.#config = config;
		this.#workers = workers;
		this.#tokens = tokens;
		this.#roomCreates = new KeyedBuckets(config.roomCreatesPerMinute, 60);
		// Silent peers and roomless sessions are found by one sweep rather than a timer each.
		const sweepMs = Math.min(5000, Math.max(50, (Math.min(config.peerTimeout, config.joinTimeout) * 1000) / 4));

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
	mediaCounts(): MediaCounts {
		const media: MediaCounts = { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };

		for (const room of this.#rooms.values()) {
			const counts = room.counts();

			for (const key of MEDIA_KINDS) media[key] += counts[key];
		}

		return media;
	}

	get sessionCount(): number {
		return this.#sessions.size;
	}

	/** Room ids are claimed here from now on (the cluster's room directory). */
	claimWith(claims: RoomClaims): void {
		this.#claims = claims;
	}

	/** Refuses createRoom from now on (draining, shutdown). */
	stopAcceptingRooms(): void {
		this.#acceptingRooms = false;
	}

	/** Registers a new connection. */
	open(channel: PeerChannel, client: ClientInfo): Session {
		const session = new Session(channel, client);

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
				return this.#joinOnce(session, request.data.token, (claims) => this.#createRoom(session, claims, request.data.metadata));
			case 'joinRoom':
				return this.#joinOnce(session, request.data.token, (claims) => this.#joinRoom(session, claims, request.data.roomId, request.data.metadata));
			case 'rejoinRoom':
				return this.#joinOnce(session, request.data.token, (claims) => this.#rejoinRoom(session, claims, request.data));
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

	/**
	 * Runs one join of a session at a time: the "not joined yet" check and the
	 * bind are separated by awaits, so a second join arriving in between would
	 * leave a peer bound to no session. The join token (the request's, else
	 * the URL's) is verified first.
	 */
	async #joinOnce<T>(session: Session, token: string | undefined, join: (claims: JoinClaims) => Promise<T>): Promise<T> {
		this.assertCanJoin(session);
		session.joining = true;
		try {
			return await join(await this.#tokens.verify(token ?? session.client.token));
		} finally {
			session.joining = false;
		}
	}

	/** Throws what a join gets while the session is joined or joining. */
	assertCanJoin(session: Session): void {
		if (session.joining) throw invalidState('a createRoom, joinRoom or rejoinRoom is already in progress');

		const joined = session.joined();

		if (joined) throw invalidState(`already in room ${joined.room.id}; leaveRoom first`);
	}

	/** A token for one room is good for that room only. */
	#assertTokenRoom(claims: JoinClaims, roomId: string): void {
		if (claims.room !== undefined && claims.room !== roomId) throw forbidden(`the join token is for another room, not ${roomId}`);
	}

	/** createRoom: a room named by the token (when it names one), or a random id. */
	async #createRoom(session: Session, claims: JoinClaims, metadata: Record<string, unknown>): Promise<Responses['createRoom']> {
		if (!claims.grants.create) throw forbidden('the join token does not grant create');
		if (claims.room !== undefined && (this.#rooms.has(claims.room) || this.#opening.has(claims.room)))
			throw invalidState(`room ${claims.room} exists; joinRoom it`);

		const room = await this.#openRoom(session, claims.room).catch((error: unknown) => {
			if (error instanceof RoomElsewhereError) throw invalidState(`room ${error.roomId} exists; joinRoom it`);
			throw error;
		});
		const peer = await room.join(metadata, session.channel, claims, this.#admitPeer);

		this.#bind(session, room, peer);
		session.channel.notify('roomCreated', { roomId: room.id });

		return { roomId: room.id, peerId: peer.id, reconnectToken: peer.reconnectToken, peers: [] };
	}

	/** joinRoom: with the create grant, a room the app named that does not exist yet is opened (LiveKit's model). */
	async #joinRoom(session: Session, claims: JoinClaims, roomId: string, metadata: Record<string, unknown>): Promise<Responses['joinRoom']> {
		if (this.#tokens.required && claims.room === undefined) throw forbidden('the join token names no room; it is good for createRoom only');
		this.#assertTokenRoom(claims, roomId);

		const existing = this.#rooms.get(roomId);
		let room: Room;

		if (existing) room = existing;
		else if (this.#tokens.required && claims.grants.create) room = await this.#openRoom(session, roomId);
		else throw notFound(`no room ${roomId}`);

		this.#assertPeerRoom();

		const peer = await room.join(metadata, session.channel, claims, this.#admitPeer);

		this.#bind(session, room, peer);

		return { roomId, peerId: peer.id, reconnectToken: peer.reconnectToken, peers: room.otherPeers(peer) };
	}

	/**
	 * Opens a room after the quotas agree. Two sessions opening the same named
	 * room at once share one: the second waits for the first's.
	 */
	#openRoom(session: Session, roomId: string | undefined): Promise<Room> {
		const pending = roomId === undefined ? undefined : this.#opening.get(roomId);

		if (pending) return pending;
		if (!this.#acceptingRooms) throw new RequestError(ErrorCode.UNAVAILABLE, 'the server is not accepting new rooms');
		if (this.#rooms.size + this.#opening.size >= this.#config.maxRooms)
			throw new RequestError(ErrorCode.UNAVAILABLE, 'the server holds as many rooms as it may');
		this.#assertPeerRoom();
		if (!this.#roomCreates.take(session.client.address))
			throw rateLimited(`at most ${this.#config.roomCreatesPerMinute} new rooms per minute from one address`);

		const worker = this.#workers.leastLoaded();

		if (!worker) throw new RequestError(ErrorCode.UNAVAILABLE, 'no media worker is available; try again shortly');

		const key = roomId ?? Symbol('unnamed');
		const id = roomId ?? randomId(16);
		const opening = this.#claims
			.claim(id)
			.then((host) => {
				if (host !== undefined) throw new RoomElsewhereError(id, host);

				return Room.create(worker, this.#config, id).catch((error: unknown) => {
					this.#claims.release(id);
					throw error;
				});
			})
			.then((room) => {
				this.#register(room);

				return room;
			})
			.finally(() => this.#opening.delete(key));

		this.#opening.set(key, opening);

		return opening;
	}

	async #rejoinRoom(session: Session, claims: JoinClaims, data: RequestData<'rejoinRoom'>): Promise<Responses['rejoinRoom']> {
		this.#assertTokenRoom(claims, data.roomId);

		const room = this.#room(data.roomId);
		const peer = await room.rejoin(data.peerId, data.reconnectToken, session.channel, claims);

		this.#bind(session, room, peer);

		return {
			roomId: room.id,
			peerId: peer.id,
			reconnectToken: peer.reconnectToken,
			peers: room.otherPeers(peer),
			producers: peer.producerInfos(),
			transports: [...peer.transports.values()].map((t) => ({ transportId: t.id, direction: t.appData.direction })),
			consumers: [...peer.consumers.values()].map((c) => ({ consumerId: c.id, producerId: c.producerId })),
			dataProducers: peer.dataProducerInfos(),
			dataConsumers: [...peer.dataConsumers.values()].map((c) => ({ dataConsumerId: c.id, dataProducerId: c.dataProducerId }))
		};
	}

	/** MAX_PEERS: checked before a join queues, and again when it runs (joins to other rooms ran meanwhile). */
	#assertPeerRoom(): void {
		if (this.#peerCount >= this.#config.maxPeers) throw new RequestError(ErrorCode.UNAVAILABLE, 'the server holds as many peers as it may');
	}

	readonly #admitPeer = (): void => this.#assertPeerRoom();

	#room(roomId: string): Room {
		const room = this.#rooms.get(roomId);

		if (!room) throw notFound(`no room ${roomId}`);

		return room;
	}

	#bind(session: Session, room: Room, peer: Peer): void {
		session.room = room;
		session.peer = peer;
		session.unjoinedSince = undefined;
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
		room.once('closed', () => {
			this.#rooms.delete(room.id);
			this.#claims.release(room.id);
		});
		debug('room %s opened on worker %d', room.id, room.mediaWorker.index);
	}

	/** Whether a session has gone JOIN_TIMEOUT without a room (a connection held open for nothing). */
	#roomless(session: Session, now: number): boolean {
		if (session.joining || session.relayed || session.joined()) return false;
		session.unjoinedSince ??= now;

		return now - session.unjoinedSince >= this.#config.joinTimeout * 1000;
	}

	#sweep(): void {
		const now = Date.now();
		const deadline = now - this.#config.peerTimeout * 1000;

		for (const session of this.#sessions) {
			if (this.#roomless(session, now)) {
				debug('session without a room for %ds, closing', this.#config.joinTimeout);
				session.channel.close('join timeout: no room joined');
				continue;
			}
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
