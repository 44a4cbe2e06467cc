// A call: one mediasoup router on one worker, its peers, and every request
// that changes them, run one at a time on the room's AwaitQueue so no two
// requests of a room interleave across an await.

import { EventEmitter } from 'node:events';
import { AwaitQueue, AwaitQueueStoppedError } from 'awaitqueue';
import debugFactory from 'debug';
import type * as ms from 'mediasoup/types';
import type { types as mc } from 'mediasoup-client';
import type { JoinClaims } from '../auth/grants.js';
import type { Config } from '../config/options.js';
import type { MediaWorker } from '../media/WorkerPool.js';
import { listenInfos, MEDIA_CODECS } from '../media/settings.js';
import { turnServers } from '../media/turn.js';
import { ErrorCode, forbidden, invalidState, notFound, rateLimited, RequestError } from '../protocol/errors.js';
import { OutgoingNotification } from '../protocol/messages.js';
import type { PeerChannel } from '../protocol/ProtooConnection.js';
import type { ConsumeResponse, Notifications, NotificationMethod, PeerInfo, RequestData, Responses, RoomInfo, RoomMethod, RoomRequest, Success } from '../protocol/methods.js';
import { DataRateLimit } from './DataRateLimit.js';
import { dataProducerInfo, Peer, type ProducerAppData, type TransportAppData } from './Peer.js';
import { RoomBandwidth } from './RoomBandwidth.js';
import type { DownlinkSnapshot } from './DownlinkBudget.js';

const debug = debugFactory('vcall:room');

/** Bounds on what one peer may hold, so a hostile client cannot exhaust a worker. */
const MAX_PRODUCERS_PER_PEER = 8;
const MAX_CONSUMERS_PER_PEER = 256;
const MAX_DATA_PRODUCERS_PER_PEER = 4;
const MAX_DATA_CONSUMERS_PER_PEER = 64;

const SUCCESS: Success = { success: true };

/** The kinds of mediasoup object a peer owns, as counted for /health and leaks. */
export const MEDIA_KINDS = ['transports', 'producers', 'consumers', 'dataProducers', 'dataConsumers'] as const;

export type MediaCounts = Record<(typeof MEDIA_KINDS)[number], number>;

export interface RoomEvents {
	closed: [reason: string];
	/** Peer count changed (for worker load accounting). */
	peers: [delta: number];
}

// mediasoup and mediasoup-client type the same JSON, but mediasoup knows a
// few more header-extension URIs; the protocol speaks mediasoup-client's types
// because that is what a client hands to its Device.
const forClient = {
	rtpCapabilities: (caps: ms.RtpCapabilities) => caps as mc.RtpCapabilities,
	rtpParameters: (params: ms.RtpParameters) => params as mc.RtpParameters
};

/**
 * mediasoup's own errors (bad RTP parameters, closed objects) become
 * MEDIA_ERROR naming what was refused; mediasoup's text (internal names,
 * parsed values) goes to the debug log only.
 */
async function media<T>(operation: Promise<T>, refused: string): Promise<T> {
	try {
		return await operation;
	} catch (error) {
		if (error instanceof RequestError) throw error;
		debug('mediasoup refused %s: %s', refused, (error as Error).message);
		throw new RequestError(ErrorCode.MEDIA_ERROR, `mediasoup refused ${refused}`);
	}
}

/** The capabilities sent with a consume, or the ones its peer's earlier consume left. */
function capabilitiesOf(peer: Peer, given: RequestData<'consume'>['rtpCapabilities']): ms.RtpCapabilities {
	const rtpCapabilities = (given as ms.RtpCapabilities | undefined) ?? peer.rtpCapabilities;

	if (!rtpCapabilities) throw new RequestError(ErrorCode.BAD_REQUEST, 'rtpCapabilities are required until a consume has succeeded');

	return rtpCapabilities;
}

/** A failure that is not the client's: logged, and told as INTERNAL. */
function unexpected(error: unknown): RequestError {
	debug('consume failed unexpectedly: %o', error);

	return new RequestError(ErrorCode.INTERNAL, 'internal error');
}

export class Room extends EventEmitter<RoomEvents> {
	readonly id: string;
	readonly mediaWorker: MediaWorker;
	readonly #router: ms.Router;
	/** The router's capabilities never change; its getter deep-clones them on every read. */
	readonly #rtpCapabilities: mc.RtpCapabilities;
	readonly #config: Config;
	readonly #peers = new Map<string, Peer>();
	readonly #queue = new AwaitQueue();
	readonly #dataRate: DataRateLimit;
	readonly #bandwidth: RoomBandwidth;
	#idleTimer: NodeJS.Timeout | undefined;
	#closed = false;

	/** A room with the id Rooms chose (random, or the one a join token names) and claimed. */
	static async create(mediaWorker: MediaWorker, config: Config, id: string): Promise<Room> {
		const router = await mediaWorker.worker.createRouter({ mediaCodecs: MEDIA_CODECS });

		return new Room(id, router, mediaWorker, config, await RoomBandwidth.create(router, config.maxDownlinkBitrate));
	}

	private constructor(id: string, router: ms.Router, mediaWorker: MediaWorker, config: Config, bandwidth: RoomBandwidth) {
		super();
		this.id = id;
		this.#router = router;
		this.#rtpCapabilities = forClient.rtpCapabilities(router.rtpCapabilities);
		this.mediaWorker = mediaWorker;
		this.#config = config;
		this.#dataRate = new DataRateLimit(router, config.dataMessagesPerSecond);
		this.#bandwidth = bandwidth;
		bandwidth.on('activeSpeaker', (peerId) => {
			for (const peer of this.#peers.values()) peer.notify('activeSpeaker', { peerId });
		});
		// mediasoup closes the routers of a dead worker before it emits 'died'.
		router.observer.once('close', () => this.close(mediaWorker.worker.died ? 'workerDied' : 'routerClosed'));
		this.#startIdleTimer();
	}

	get closed(): boolean {
		return this.#closed;
	}

	get peerCount(): number {
		return this.#peers.size;
	}

	get peers(): IterableIterator<Peer> {
		return this.#peers.values();
	}

	/** Adds a peer (createRoom or joinRoom); `admit` throws when a server-wide quota says no. */
	join(metadata: Record<string, unknown>, channel: PeerChannel, claims: JoinClaims, admit: () => void): Promise<Peer> {
		return this.#serialize('join', () => {
			if (this.#peers.size >= this.#config.maxPeersPerRoom)
				throw new RequestError(ErrorCode.ROOM_FULL, `room is full (${this.#config.maxPeersPerRoom} peers)`);
			admit();

			const peer = new Peer(metadata, channel, claims);
			this.#notifyOthers(peer, 'peerJoined', peer.summary());
			this.#peers.set(peer.id, peer);
			if (this.#bandwidth.activeSpeaker) peer.notify('activeSpeaker', { peerId: this.#bandwidth.activeSpeaker });
			clearTimeout(this.#idleTimer);
			this.emit('peers', 1);
			debug('room %s: peer %s joined (%d peers)', this.id, peer.id, this.#peers.size);

			return peer;
		});
	}

	/**
	 * A new connection takes over a peer that proves it holds its reconnect
	 * token (and, with join tokens, a valid one for the same identity).
	 */
	rejoin(peerId: string, token: string, channel: PeerChannel, claims: JoinClaims): Promise<Peer> {
		return this.#serialize('rejoin', () => {
			const peer = this.#peers.get(peerId);

			if (!peer || !peer.tokenMatches(token) || peer.identity !== claims.identity)
				throw new RequestError(ErrorCode.UNAUTHORIZED, 'unknown peer or wrong reconnect token');

			// A half-open old connection may not have noticed it is dead yet.
			const previous = peer.channel;

			peer.attach(channel);
			peer.rotateReconnectToken();
			if (previous && previous !== channel) previous.close('replaced by a new connection');
			debug('room %s: peer %s rejoined', this.id, peer.id);

			return peer;
		});
	}

	/** Peers other than `peer`, as clients see them. */
	otherPeers(peer: Peer): PeerInfo[] {
		return [...this.#peers.values()].filter((p) => p !== peer).map((p) => p.info());
	}

	/** The peer's WebSocket dropped: keep its state for the grace period. */
	disconnected(peer: Peer): void {
		if (peer.closed || this.#closed) return;
		if (this.#config.reconnectGrace === 0) {
			void this.remove(peer, 'disconnected');
			return;
		}
		debug('room %s: peer %s disconnected, grace %ds', this.id, peer.id, this.#config.reconnectGrace);
		peer.detach(this.#config.reconnectGrace, () => void this.remove(peer, 'reconnect grace expired'));
	}

	/** Removes a peer and tells the others (leaveRoom, timeout, grace expiry). */
	remove(peer: Peer, why: string): Promise<void> {
		// Cleanup is never refused for a full queue.
		return this.#serialize('remove', () => this.#removeNow(peer, why), false).catch(() => undefined);
	}

	/** Answers one validated request of a joined peer. */
	handle(peer: Peer, request: RoomRequest): Promise<Responses[RoomMethod]> {
		switch (request.method) {
			// Read-only requests answer from current state without queueing.
			case 'getRouterRtpCapabilities':
				return Promise.resolve({ rtpCapabilities: this.#rtpCapabilities });
			case 'getProducers':
				return Promise.resolve({ producers: this.otherPeers(peer).flatMap((p) => p.producers) });
			case 'getRoomInfo':
				return Promise.resolve(this.info());
			case 'leaveRoom':
				return this.remove(peer, 'left').then(() => SUCCESS);
			case 'createWebRtcTransport':
				return this.#serialize(request.method, () => this.#createTransport(peer, request.data));
			case 'connectWebRtcTransport':
				return this.#serialize(request.method, () => this.#connectTransport(peer, request.data));
			case 'restartIce':
				return this.#serialize(request.method, () => this.#restartIce(peer, request.data));
			case 'produce':
				return this.#serialize(request.method, () => this.#produce(peer, request.data));
			case 'consume':
				return this.#serialize(request.method, () => this.#consume(peer, request.data));
			case 'consumeMany':
				return this.#serialize(request.method, () => this.#consumeMany(peer, request.data));
			case 'pauseConsumer':
			case 'resumeConsumer':
				return this.#serialize(request.method, () => this.#setConsumerPaused(peer, request.data.consumerId, request.method === 'pauseConsumer'));
			case 'closeConsumer':
				return this.#serialize(request.method, () => this.#closeConsumer(peer, request.data.consumerId));
			case 'pauseProducer':
			case 'resumeProducer':
				return this.#serialize(request.method, () => this.#setProducerPaused(peer, request.data.producerId, request.method === 'pauseProducer'));
			case 'closeProducer':
				return this.#serialize(request.method, () => this.#closeProducer(peer, request.data.producerId));
			case 'produceData':
				return this.#serialize(request.method, () => this.#produceData(peer, request.data));
			case 'consumeData':
				return this.#serialize(request.method, () => this.#consumeData(peer, request.data.dataProducerId));
			case 'closeDataProducer':
				return this.#serialize(request.method, () => this.#closeDataProducer(peer, request.data.dataProducerId));
			case 'setConsumerPreferredLayers':
			case 'setConsumerPriority':
			case 'requestConsumerKeyFrame':
				return this.#serialize(request.method, () => this.#controlConsumer(peer, request));
			case 'getTransportStats':
				return this.#stats(this.#own<ms.WebRtcTransport>(peer, 'transports', request.data.transportId));
			case 'getProducerStats':
				return this.#stats(this.#own<ms.Producer>(peer, 'producers', request.data.producerId));
			case 'getConsumerStats':
				return this.#stats(this.#own<ms.Consumer>(peer, 'consumers', request.data.consumerId));
			default:
				throw new Error(`unhandled room request ${JSON.stringify(request satisfies never)}`);
		}
	}

	info(): RoomInfo {
		return {
			roomId: this.id,
			peerCount: this.#peers.size,
			maxPeers: this.#config.maxPeersPerRoom,
			peers: [...this.#peers.values()].map((p) => p.info())
		};
	}

	/** Each receiving peer's downlink figures, for /metrics. */
	downlinks(): DownlinkSnapshot[] {
		return this.#bandwidth.snapshots();
	}

	/** Counts of live mediasoup objects, for /health and /metrics. */
	counts(): MediaCounts {
		const counts: MediaCounts = { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };

		for (const peer of this.#peers.values()) for (const key of MEDIA_KINDS) counts[key] += peer[key].size;

		return counts;
	}

	/** Tells every peer why, then frees the router and everything on it. */
	close(reason: string): void {
		if (this.#closed) return;
		this.#closed = true;
		debug('room %s closed: %s', this.id, reason);
		clearTimeout(this.#idleTimer);
		this.#queue.stop();
		for (const peer of this.#peers.values()) {
			peer.notify('roomClosed', { reason });
			peer.close();
		}
		this.emit('peers', -this.#peers.size);
		this.#peers.clear();
		this.#bandwidth.close();
		this.#router.close();
		this.emit('closed', reason);
	}

	#serialize<T>(name: string, task: () => T | Promise<T>, bounded = true): Promise<T> {
		if (this.#closed) return Promise.reject(invalidState('room is closed'));
		if (bounded && this.#queue.size >= this.#config.maxRoomQueue)
			return Promise.reject(rateLimited(`the room has ${this.#config.maxRoomQueue} requests waiting`));

		return this.#queue.push(async () => task(), name).catch((error: unknown) => {
			if (error instanceof AwaitQueueStoppedError) throw invalidState('room is closed');
			throw error;
		});
	}

	#removeNow(peer: Peer, why: string): void {
		if (peer.closed || this.#peers.get(peer.id) !== peer) return;
		this.#peers.delete(peer.id);
		this.#bandwidth.peerRemoved(peer);
		for (const producer of peer.producers.values()) this.#notifyOthers(peer, 'producerClosed', { producerId: producer.id, peerId: peer.id });
		for (const dataProducer of peer.dataProducers.values())
			this.#notifyOthers(peer, 'dataProducerClosed', { dataProducerId: dataProducer.id, peerId: peer.id });
		peer.close();
		this.#notifyOthers(peer, 'peerLeft', { peerId: peer.id });
		this.emit('peers', -1);
		debug('room %s: peer %s removed (%s), %d left', this.id, peer.id, why, this.#peers.size);
		if (this.#peers.size === 0) this.#startIdleTimer();
	}

	/** An empty room (new, or everyone left) closes after ROOM_IDLE_TIMEOUT unless someone joins. */
	#startIdleTimer(): void {
		clearTimeout(this.#idleTimer);
		this.#idleTimer = setTimeout(() => this.close('idle'), this.#config.roomIdleTimeout * 1000);
	}

	#notifyOthers<M extends NotificationMethod>(except: Peer, method: M, data: Notifications[M]): void {
		const outgoing = new OutgoingNotification(method, data);

		for (const peer of this.#peers.values()) if (peer !== except) peer.deliver(outgoing);
	}

	/** Finds an object by id in the peer's own map; another peer's id is FORBIDDEN, an unknown one NOT_FOUND. */
	#own<T>(peer: Peer, what: 'transports' | 'producers' | 'consumers' | 'dataProducers', id: string): T {
		const mine = peer[what].get(id);

		if (mine) return mine as T;
		for (const other of this.#peers.values()) if (other[what].has(id)) throw forbidden(`${what.slice(0, -1)} ${id} belongs to another peer`);

		throw notFound(`no ${what.slice(0, -1)} ${id}`);
	}

	async #createTransport(peer: Peer, data: RequestData<'createWebRtcTransport'>): Promise<Responses['createWebRtcTransport']> {
		const config = this.#config;
		const webRtcServer = this.mediaWorker.webRtcServer;
		const transport = await media(
			this.#router.createWebRtcTransport<TransportAppData>({
				...(webRtcServer ? { webRtcServer } : { listenInfos: listenInfos(config, undefined) }),
				enableUdp: !data.forceTcp,
				enableTcp: true,
				preferUdp: true,
				initialAvailableOutgoingBitrate: Math.min(config.initialOutgoingBitrate, config.maxDownlinkBitrate),
				enableSctp: true,
				maxReceiveMessageSize: config.maxDataMessageBytes,
				maxSendMessageSize: config.maxDataMessageBytes,
				appData: { direction: data.direction, connected: false }
			}),
			'the transport'
		);

		if (peer.closed) {
			transport.close();
			throw invalidState('peer has left');
		}
		// A second transport of a direction replaces the first (e.g. after ICE failed for good).
		const previous = peer.transport(data.direction);

		if (previous) this.#closeTransport(peer, previous);
		peer.transports.set(transport.id, transport);
		if (data.direction === 'send') await media(transport.setMaxIncomingBitrate(config.maxIncomingBitrate), 'the transport');
		else await media(this.#bandwidth.recvTransportCreated(peer, transport), 'the transport');
		transport.on('dtlsstatechange', (state) => {
			if (state === 'failed' || state === 'closed') debug('room %s: transport %s DTLS %s', this.id, transport.id, state);
		});

		return {
			id: transport.id,
			transportId: transport.id,
			direction: data.direction,
			iceParameters: transport.iceParameters,
			iceCandidates: transport.iceCandidates,
			dtlsParameters: transport.dtlsParameters,
			sctpParameters: transport.sctpParameters,
			// A stable username per identity lets coturn's user-quota count a person, not a connection.
			iceServers: turnServers(config, peer.identity ?? peer.id)
		};
	}

	#closeTransport(peer: Peer, transport: ms.WebRtcTransport<TransportAppData>): void {
		for (const producer of peer.producers.values()) {
			if (producer.appData.transportId === transport.id) this.#closeProducerNow(peer, producer);
		}
		for (const dataProducer of peer.dataProducers.values()) {
			if (dataProducer.appData.transportId === transport.id) this.#closeDataProducerNow(peer, dataProducer);
		}
		transport.close();
		peer.transports.delete(transport.id);
	}

	async #connectTransport(peer: Peer, data: RequestData<'connectWebRtcTransport'>): Promise<Responses['connectWebRtcTransport']> {
		const transport = this.#own<ms.WebRtcTransport<TransportAppData>>(peer, 'transports', data.transportId);

		if (transport.appData.connected) throw invalidState('transport is already connected');
		await media(transport.connect({ dtlsParameters: data.dtlsParameters }), 'dtlsParameters');
		transport.appData.connected = true;

		return SUCCESS;
	}

	async #restartIce(peer: Peer, data: RequestData<'restartIce'>): Promise<Responses['restartIce']> {
		const transport = this.#own<ms.WebRtcTransport<TransportAppData>>(peer, 'transports', data.transportId);

		return { iceParameters: await media(transport.restartIce(), 'the ICE restart') };
	}

	async #produce(peer: Peer, data: RequestData<'produce'>): Promise<Responses['produce']> {
		const transport = this.#own<ms.WebRtcTransport<TransportAppData>>(peer, 'transports', data.transportId);

		if (!peer.grants.publish) throw forbidden('the join token does not grant publish');
		if (data.metadata.source === 'screen' && !peer.grants.screen) throw forbidden('the join token does not grant screen');
		if (transport.appData.direction !== 'send') throw invalidState('produce needs a send transport');
		if (peer.producers.size >= MAX_PRODUCERS_PER_PEER) throw invalidState(`at most ${MAX_PRODUCERS_PER_PEER} producers per peer`);

		const producer = await media(
			transport.produce<ProducerAppData>({
				kind: data.kind,
				rtpParameters: data.rtpParameters as unknown as ms.RtpParameters,
				appData: { peerId: peer.id, metadata: data.metadata, transportId: transport.id }
			}),
			'rtpParameters'
		);

		if (!peer.keep(peer.producers, producer)) throw invalidState('peer has left');
		await media(this.#bandwidth.producerAdded(producer), 'the producer');
		this.#notifyOthers(peer, 'newProducer', { producerId: producer.id, peerId: peer.id, kind: producer.kind, metadata: data.metadata });

		return { producerId: producer.id, id: producer.id };
	}

	async #consume(peer: Peer, data: RequestData<'consume'>): Promise<Responses['consume']> {
		const transport = this.#consumingTransport(peer, 1);

		return this.#consumeOne(peer, transport, data.producerId, capabilitiesOf(peer, data.rtpCapabilities));
	}

	/** Consumes several producers in one request; each one that fails is listed with the code consume would have answered. */
	async #consumeMany(peer: Peer, data: RequestData<'consumeMany'>): Promise<Responses['consumeMany']> {
		const transport = this.#consumingTransport(peer, data.producerIds.length);
		const rtpCapabilities = capabilitiesOf(peer, data.rtpCapabilities);
		// The worker takes the consumes in order; none waits for the previous answer.
		const settled = await Promise.allSettled(data.producerIds.map((producerId) => this.#consumeOne(peer, transport, producerId, rtpCapabilities)));
		const answer: Responses['consumeMany'] = { consumers: [], failed: [] };

		settled.forEach((result, i) => {
			if (result.status === 'fulfilled') {
				answer.consumers.push(result.value);

				return;
			}

			const error = result.reason instanceof RequestError ? result.reason : unexpected(result.reason);

			answer.failed.push({ producerId: data.producerIds[i]!, errorCode: error.code, errorReason: error.message });
		});

		return answer;
	}

	/** The peer's recv transport, if it may take `count` more consumers. */
	#consumingTransport(peer: Peer, count: number): ms.WebRtcTransport<TransportAppData> {
		const transport = peer.transport('recv');

		if (!peer.grants.subscribe) throw forbidden('the join token does not grant subscribe');
		if (!transport) throw invalidState('create a recv transport before consuming');
		if (peer.consumers.size + count > MAX_CONSUMERS_PER_PEER) throw invalidState(`at most ${MAX_CONSUMERS_PER_PEER} consumers per peer`);

		return transport;
	}

	async #consumeOne(peer: Peer, transport: ms.WebRtcTransport<TransportAppData>, producerId: string, rtpCapabilities: ms.RtpCapabilities): Promise<ConsumeResponse> {
		const producer = this.#findInRoom<ms.Producer<ProducerAppData>>('producers', producerId);

		// One copy of a stream per peer: more would only multiply the worker's sending.
		if (producer.appData.peerId === peer.id) throw forbidden('a peer cannot consume its own producer');
		for (const consumer of peer.consumers.values())
			if (consumer.producerId === producer.id) throw invalidState(`already consuming producer ${producer.id} (consumer ${consumer.id})`);

		// No router.canConsume first: consume negotiates (and refuses) by itself.
		// Audio flows at once; video waits for resumeConsumer, so that the client
		// is ready for the key frame the resume asks for, and starts at the lowest
		// layer until the downlink budget raises it (within a second).
		const consumer = await media(
			transport.consume({ producerId: producer.id, rtpCapabilities, paused: producer.kind === 'video', preferredLayers: { spatialLayer: 0 } }),
			'rtpCapabilities'
		);

		if (!peer.keep(peer.consumers, consumer)) throw invalidState('peer has left');
		peer.rememberCapabilities(rtpCapabilities);

		// Read once: each read of a mediasoup object's parameters is a deep clone.
		const { rtpParameters } = consumer;

		await this.#bandwidth.consumerAdded(peer, consumer, producer, rtpParameters.encodings?.[0]?.scalabilityMode);

		return {
			id: consumer.id,
			consumerId: consumer.id,
			producerId: producer.id,
			peerId: producer.appData.peerId,
			kind: consumer.kind,
			rtpParameters: forClient.rtpParameters(rtpParameters),
			type: consumer.type,
			paused: consumer.paused,
			producerPaused: consumer.producerPaused,
			metadata: producer.appData.metadata
		};
	}

	/** A (data) producer of any peer in this room; objects of other rooms are not even found. */
	#findInRoom<T>(what: 'producers' | 'dataProducers', id: string): T {
		for (const peer of this.#peers.values()) {
			const found = peer[what].get(id);

			if (found) return found as T;
		}

		throw notFound(`no ${what === 'producers' ? 'producer' : 'data producer'} ${id} in this room`);
	}

	async #setConsumerPaused(peer: Peer, consumerId: string, paused: boolean): Promise<Success> {
		const consumer = this.#own<ms.Consumer>(peer, 'consumers', consumerId);

		// An old client resumes audio consumers that start unpaused: no worker round trip for that.
		if (consumer.paused === paused) return SUCCESS;
		try {
			await (paused ? consumer.pause() : consumer.resume());
		} catch (error) {
			// Its producer closed while this request was on its way: the worker
			// dropped the consumer, and mediasoup delivers that news on setImmediate.
			await new Promise(setImmediate);
			if (consumer.closed) throw notFound(`consumer ${consumerId} was closed with its producer`);
			debug('mediasoup refused to pause/resume consumer %s: %s', consumerId, (error as Error).message);
			throw new RequestError(ErrorCode.MEDIA_ERROR, `mediasoup refused to ${paused ? 'pause' : 'resume'} the consumer`);
		}

		return SUCCESS;
	}

	/** A client's say in its consumer's layers, priority or keyframes; the budget still has the last word on layers. */
	async #controlConsumer(peer: Peer, request: Extract<RoomRequest, { method: 'setConsumerPreferredLayers' | 'setConsumerPriority' | 'requestConsumerKeyFrame' }>): Promise<Success> {
		const consumer = this.#own<ms.Consumer>(peer, 'consumers', request.data.consumerId);

		if (request.method === 'setConsumerPriority') {
			await media(this.#bandwidth.prioritize(peer, consumer, request.data.priority), 'the priority');

			return SUCCESS;
		}
		if (consumer.kind !== 'video') throw invalidState(`consumer ${consumer.id} is audio: it has no layers or keyframes`);
		if (request.method === 'requestConsumerKeyFrame') {
			await media(consumer.requestKeyFrame(), 'the keyframe request');

			return SUCCESS;
		}
		if (!this.#bandwidth.layered(peer, consumer)) throw invalidState(`consumer ${consumer.id} receives a single stream: it has no layers to choose`);
		await media(this.#bandwidth.preferLayers(peer, consumer, request.data.spatialLayer, request.data.temporalLayer), 'the preferred layers');

		return SUCCESS;
	}

	/** mediasoup's stats of one of the caller's objects. */
	async #stats(object: ms.WebRtcTransport | ms.Producer | ms.Consumer): Promise<Responses['getTransportStats']> {
		const stats = await media<unknown[]>(object.getStats(), 'the stats request');

		return { stats: stats as Record<string, unknown>[] };
	}

	/** A client that no longer wants a stream (or gave up on a consume whose answer came late) frees it. */
	#closeConsumer(peer: Peer, consumerId: string): Success {
		this.#own<ms.Consumer>(peer, 'consumers', consumerId).close();
		peer.consumers.delete(consumerId);

		return SUCCESS;
	}

	async #setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<Success> {
		const producer = this.#own<ms.Producer<ProducerAppData>>(peer, 'producers', producerId);

		if (producer.paused === paused) return SUCCESS;
		await media(paused ? producer.pause() : producer.resume(), `to ${paused ? 'pause' : 'resume'} the producer`);
		this.#notifyOthers(peer, paused ? 'producerPaused' : 'producerResumed', { producerId, peerId: peer.id });

		return SUCCESS;
	}

	#closeProducer(peer: Peer, producerId: string): Success {
		this.#closeProducerNow(peer, this.#own<ms.Producer<ProducerAppData>>(peer, 'producers', producerId));

		return SUCCESS;
	}

	/** Closing a producer closes its consumers (mediasoup does that) and tells the others. */
	#closeProducerNow(peer: Peer, producer: ms.Producer<ProducerAppData>): void {
		producer.close();
		peer.producers.delete(producer.id);
		this.#notifyOthers(peer, 'producerClosed', { producerId: producer.id, peerId: peer.id });
	}

	// ---- Data channels ----

	/** Bad input to a data request is refused before anything is made. */
	#assertMayUseData(peer: Peer): void {
		if (!peer.grants.data) throw forbidden('your token does not grant data channels');
	}

	async #produceData(peer: Peer, data: RequestData<'produceData'>): Promise<Responses['produceData']> {
		this.#assertMayUseData(peer);

		const transport = this.#own<ms.WebRtcTransport<TransportAppData>>(peer, 'transports', data.transportId);

		if (transport.appData.direction !== 'send') throw invalidState('produceData needs a send transport');
		if (peer.dataProducers.size >= MAX_DATA_PRODUCERS_PER_PEER) throw invalidState(`at most ${MAX_DATA_PRODUCERS_PER_PEER} data producers per peer`);

		const dataProducer = await media(
			transport.produceData<ProducerAppData>({
				sctpStreamParameters: data.sctpStreamParameters,
				label: data.label,
				protocol: data.protocol,
				appData: { peerId: peer.id, metadata: data.metadata, transportId: transport.id }
			}),
			'sctpStreamParameters'
		);

		if (!peer.keep(peer.dataProducers, dataProducer)) throw invalidState('peer has left');
		await media(
			this.#dataRate.watch(dataProducer, () =>
				peer.notify('error', {
					code: ErrorCode.RATE_LIMITED,
					message: `data producer ${dataProducer.id} sent more than ${this.#config.dataMessagesPerSecond} messages in a second; paused until the second is over`
				})
			),
			'the data producer'
		);
		this.#notifyOthers(peer, 'newDataProducer', dataProducerInfo(dataProducer));

		return { dataProducerId: dataProducer.id, id: dataProducer.id };
	}

	async #consumeData(peer: Peer, dataProducerId: string): Promise<Responses['consumeData']> {
		this.#assertMayUseData(peer);

		const transport = peer.transport('recv');

		if (!transport) throw invalidState('create a recv transport before consuming data');
		if (peer.dataConsumers.size >= MAX_DATA_CONSUMERS_PER_PEER) throw invalidState(`at most ${MAX_DATA_CONSUMERS_PER_PEER} data consumers per peer`);

		const dataProducer = this.#findInRoom<ms.DataProducer<ProducerAppData>>('dataProducers', dataProducerId);
		const dataConsumer = await media(transport.consumeData({ dataProducerId }), 'the data consumer');

		if (!peer.keep(peer.dataConsumers, dataConsumer)) throw invalidState('peer has left');

		const { sctpStreamParameters } = dataConsumer;

		// A WebRTC transport with SCTP always gives its data consumers SCTP parameters.
		if (!sctpStreamParameters) throw new RequestError(ErrorCode.INTERNAL, 'data consumer without SCTP parameters');

		return {
			id: dataConsumer.id,
			dataConsumerId: dataConsumer.id,
			dataProducerId,
			peerId: dataProducer.appData.peerId,
			sctpStreamParameters,
			label: dataConsumer.label,
			protocol: dataConsumer.protocol,
			metadata: dataProducer.appData.metadata
		};
	}

	#closeDataProducer(peer: Peer, dataProducerId: string): Success {
		this.#closeDataProducerNow(peer, this.#own<ms.DataProducer<ProducerAppData>>(peer, 'dataProducers', dataProducerId));

		return SUCCESS;
	}

	/** Closing a data producer closes its data consumers (mediasoup does that) and tells the others. */
	#closeDataProducerNow(peer: Peer, dataProducer: ms.DataProducer<ProducerAppData>): void {
		dataProducer.close();
		peer.dataProducers.delete(dataProducer.id);
		this.#notifyOthers(peer, 'dataProducerClosed', { dataProducerId: dataProducer.id, peerId: peer.id });
	}
}
