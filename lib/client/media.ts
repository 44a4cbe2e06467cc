// The client's mediasoup side: the Device, one send and one receive
// transport, our producers and a consumer for every remote producer we want.
// Every server round trip goes through Signaling; what to do after a drop is
// decided by resync.ts, not here.
//
// It needs no DOM: the Node tests run it with mediasoup-client's FakeHandler.

import type { Device, types as ms } from 'mediasoup-client';
import type { ConsumeResponse, DataProducerInfo, ProducerInfo, Responses } from '../protocol/methods.js';
import { MAX_CONSUME_MANY } from '../protocol/limits.js';
import { sctpStream } from '../protocol/request.js';
import type { ClosedConsumerState, ConsumerState, Source } from './api.js';
import { errorCode, type Signaling } from './signaling.js';
import { ErrorCode } from '../protocol/errors.js';

export type Direction = 'send' | 'recv';

/** A capture track (MediaStreamTrack in the browser, a fake one in Node). */
export type Track = NonNullable<ms.Producer['track']>;

const CONSUME_ATTEMPTS = 3;

/**
 * A camera of at least this height goes out as VP8 simulcast; a smaller one
 * as one stream. Three encoders at 640x480 halve the frame rate of a
 * 2-core machine running several browsers, and a 480p stream (at most about
 * 800 kbit/s) already fits most downlinks, so the layers are worth their
 * encoding cost only from 720p up.
 */
export const SIMULCAST_MIN_HEIGHT = 720;

/** About 1/4, 1/2 and full resolution, each with three temporal layers. */
const SIMULCAST_ENCODINGS: ms.RtpEncodingParameters[] = [
	{ scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
	{ scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
	{ scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' }
];

/** The camera's encodings: simulcast from 720p up (its top layer capped by maxKbps), else one stream. */
export function cameraEncodings(height: number | undefined, maxKbps: number): ms.RtpEncodingParameters[] | undefined {
	if ((height ?? 0) >= SIMULCAST_MIN_HEIGHT) {
		return SIMULCAST_ENCODINGS.map((encoding) => ({ ...encoding, maxBitrate: maxKbps > 0 ? Math.min(encoding.maxBitrate!, maxKbps * 1000) : encoding.maxBitrate! }));
	}

	return maxKbps > 0 ? [{ maxBitrate: maxKbps * 1000 }] : undefined;
}

/**
 * A screen share is one full-resolution stream. Where the browser and the
 * router both have VP9 (profile 0), it goes out as VP9 SVC with three
 * temporal layers (L1T3): the server can then halve or quarter the frame
 * rate for a weak downlink while the text stays sharp. Elsewhere it is a
 * single VP8 stream.
 */
export function screenSendOptions(capabilities: ms.RtpCapabilities): Pick<ms.ProducerOptions, 'codec' | 'encodings'> {
	const vp9 = capabilities.codecs?.find(
		(codec) => codec.mimeType.toLowerCase() === 'video/vp9' && (codec.parameters?.['profile-id'] ?? 0) === 0
	);

	return vp9 ? { codec: vp9, encodings: [{ scalabilityMode: 'L1T3' }] } : {};
}

export interface MediaOptions {
	/** Cap on the camera's bitrate (kbit/s); 0 leaves it to the browser. */
	maxVideoKbps: number;
	/** ICE over TCP only (createWebRtcTransport forceTcp). */
	forceTcp: boolean;
	iceTransportPolicy: 'all' | 'relay';
	/** 'auto' lets mediasoup-client pick (the browser is the DTLS client). */
	dtlsRole: 'auto' | 'client' | 'server';
}

export interface MediaEvents {
	log(type: string, data?: unknown): void;
	error(where: string, error: unknown): void;
	changed(): void;
	/** Still wanted: the (data) producer's peer is in the room and has not closed it. */
	wanted(producerId: string, peerId: string): boolean;
	/** A message on a data channel of another peer. */
	dataMessage(peerId: string, label: string, message: string): void;
	/** A producer's track ended (the user stopped a screen share from the browser's bar). */
	trackEnded(source: Source): void;
}

export interface TransportEntry {
	transport: ms.Transport;
	direction: Direction;
	iceRestarts: number;
	serverIceUfrag: string;
	restarting: boolean;
}

export interface ProducerEntry {
	producer: ms.Producer;
	source: Source;
	capture?: string;
}

export interface DataConsumerEntry {
	dataConsumer: ms.DataConsumer;
	peerId: string;
}

export interface ConsumerEntry {
	consumer: ms.Consumer;
	peerId: string;
	source: Source;
	producerPaused: boolean;
	/** The consume answer's type: 'simple', 'simulcast' or 'svc'. */
	type: string;
	/** The layers the server forwards now (consumerLayersChanged), null for none; absent until told. */
	layers?: { spatialLayer: number; temporalLayer: number } | null;
	/** consumerScore: the consumer's and its producer's scores (0-10). */
	score?: { score: number; producerScore: number };
}

interface Deferred {
	promise: Promise<void>;
	resolve: () => void;
}

function deferred(): Deferred {
	let resolve!: () => void;
	const promise = new Promise<void>((res) => (resolve = res));

	return { promise, resolve };
}

export function sourceOf(metadata: Record<string, unknown> | undefined, kind: 'audio' | 'video'): Source {
	const source = metadata?.source;

	return typeof source === 'string' ? source : kind === 'audio' ? 'mic' : 'camera';
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}

export class Media {
	readonly #device: Device;
	readonly #signaling: Signaling;
	readonly #options: MediaOptions;
	readonly #events: MediaEvents;
	#roomId = '';
	readonly #transports = new Map<Direction, TransportEntry>();
	readonly #producers = new Map<string, ProducerEntry>();
	readonly #consumers = new Map<string, ConsumerEntry>();
	readonly #closedConsumers: ClosedConsumerState[] = [];
	readonly #dataProducers = new Map<string, ms.DataProducer>();
	readonly #dataConsumers = new Map<string, DataConsumerEntry>();
	/** Producers and data producers being consumed right now (not yet a consumer). */
	readonly #consuming = new Set<string>();
	/**
	 * Resolved while the receive transport exists and signaling is up:
	 * consumption waits for it, then runs concurrently (mediasoup-client
	 * batches concurrent consume() calls into one SDP renegotiation).
	 */
	#gate = deferred();
	/** Producers asked for in the same task: one consumeMany for all of them. */
	#batch: { producerIds: string[]; answer: Promise<Responses['consumeMany']> } | undefined;
	/** The server keeps the rtpCapabilities of our first successful consume (per peer, so per join). */
	#capabilitiesSent = false;

	constructor(device: Device, signaling: Signaling, options: MediaOptions, events: MediaEvents) {
		this.#device = device;
		this.#signaling = signaling;
		this.#options = options;
		this.#events = events;
	}

	get transports(): IterableIterator<TransportEntry> {
		return this.#transports.values();
	}

	get producers(): IterableIterator<ProducerEntry> {
		return this.#producers.values();
	}

	get consumers(): IterableIterator<ConsumerEntry> {
		return this.#consumers.values();
	}

	get dataProducers(): IterableIterator<ms.DataProducer> {
		return this.#dataProducers.values();
	}

	get dataConsumers(): IterableIterator<DataConsumerEntry> {
		return this.#dataConsumers.values();
	}

	get closedConsumers(): readonly ClosedConsumerState[] {
		return this.#closedConsumers;
	}

	transport(direction: Direction): TransportEntry | undefined {
		return this.#transports.get(direction);
	}

	/** Loads the device with the room's codecs (once: a Device cannot be loaded twice). */
	async load(roomId: string): Promise<void> {
		this.#roomId = roomId;
		this.#capabilitiesSent = false;
		if (this.#device.loaded) return;

		const { rtpCapabilities } = await this.#signaling.request('getRouterRtpCapabilities', { roomId });

		await this.#device.load({ routerRtpCapabilities: rtpCapabilities });
	}

	// ---- Transports ----

	async createTransport(direction: Direction): Promise<TransportEntry> {
		const info = await this.#signaling.request('createWebRtcTransport', { roomId: this.#roomId, direction, forceTcp: this.#options.forceTcp });
		const { dtlsRole } = this.#options;
		const options: ms.TransportOptions = {
			id: info.transportId,
			iceParameters: info.iceParameters,
			iceCandidates: info.iceCandidates,
			// The role given for the server's side decides the browser's (the opposite one).
			dtlsParameters: dtlsRole === 'auto' ? info.dtlsParameters : { ...info.dtlsParameters, role: dtlsRole === 'server' ? 'client' : 'server' },
			...(info.sctpParameters ? { sctpParameters: info.sctpParameters } : {}),
			// Time-limited TURN credentials, when the server has TURN configured.
			iceServers: info.iceServers,
			iceTransportPolicy: this.#options.iceTransportPolicy
		};
		const transport = direction === 'send' ? this.#device.createSendTransport(options) : this.#device.createRecvTransport(options);
		const entry: TransportEntry = { transport, direction, iceRestarts: 0, serverIceUfrag: info.iceParameters.usernameFragment, restarting: false };

		transport.on('connect', ({ dtlsParameters }, callback, errback) => {
			this.#signaling
				.request('connectWebRtcTransport', { roomId: this.#roomId, transportId: transport.id, dtlsParameters })
				.then(() => callback(), (error: unknown) => errback(asError(error)));
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			const metadata = (appData as { metadata?: Record<string, unknown> }).metadata ?? {};

			this.#signaling
				.request('produce', { roomId: this.#roomId, transportId: transport.id, kind, rtpParameters, metadata })
				.then(({ producerId }) => callback({ id: producerId }), (error: unknown) => errback(asError(error)));
		});
		transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
			const metadata = (appData as { metadata?: Record<string, unknown> }).metadata ?? {};

			Promise.resolve()
				.then(() => this.#signaling.request('produceData', { roomId: this.#roomId, transportId: transport.id, sctpStreamParameters: sctpStream(sctpStreamParameters), label, protocol, metadata }))
				.then(({ dataProducerId }) => callback({ id: dataProducerId }), (error: unknown) => errback(asError(error)));
		});
		transport.on('connectionstatechange', (state) => {
			this.#events.log('transportState', { direction, state });
			// ICE failed for good (e.g. the network changed): ask the server for new credentials.
			if (state === 'failed' && this.#signaling.connected) void this.restartIce(entry);
			this.#events.changed();
		});

		this.#transports.set(direction, entry);

		return entry;
	}

	/** Closes our transport of `direction` (with its producers and consumers) and makes a new one; the server replaces its own. */
	async replaceTransport(direction: Direction): Promise<TransportEntry> {
		const old = this.#transports.get(direction);

		if (old) {
			this.#events.log('transportLost', { direction });
			old.transport.close();
			this.#transports.delete(direction);
		}

		return this.createTransport(direction);
	}

	async restartIce(entry: TransportEntry): Promise<void> {
		if (entry.restarting || entry.transport.closed) return;
		entry.restarting = true;
		try {
			const { iceParameters } = await this.#signaling.request('restartIce', {
				roomId: this.#roomId,
				transportId: entry.transport.id
			});

			await entry.transport.restartIce({ iceParameters });
			entry.iceRestarts++;
			entry.serverIceUfrag = iceParameters.usernameFragment;
			this.#events.log('iceRestarted', { direction: entry.direction, usernameFragment: iceParameters.usernameFragment });
		} catch (error) {
			this.#events.error(`restartIce ${entry.direction}`, error);
		} finally {
			entry.restarting = false;
			this.#events.changed();
		}
	}

	// ---- Producing ----

	async produce(track: Track, source: Source, capture?: string): Promise<ms.Producer> {
		const transport = this.transport('send')?.transport;

		if (!transport) throw new Error('no send transport');

		const isVideo = track.kind === 'video';
		const encodings = source === 'camera' && isVideo ? cameraEncodings(track.getSettings().height, this.#options.maxVideoKbps) : undefined;
		const producer = await transport.produce({
			track,
			stopTracks: false,
			...(encodings ? { encodings } : {}),
			...(source === 'screen' && isVideo ? screenSendOptions(this.#device.rtpCapabilities) : {}),
			...(isVideo ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
			appData: { metadata: { source, ...(capture ? { capture } : {}) } }
		});
		const entry: ProducerEntry = { producer, source, ...(capture ? { capture } : {}) };

		this.#producers.set(producer.id, entry);
		producer.on('transportclose', () => this.#producers.delete(producer.id));
		producer.on('trackended', () => {
			this.#events.log('trackEnded', { source });
			this.#events.trackEnded(source);
		});
		this.#events.log('produced', { producerId: producer.id, source });
		this.#events.changed();

		return producer;
	}

	/** Whether a producer of `track` exists (on the current send transport). */
	producing(track: Track): boolean {
		for (const { producer } of this.#producers.values()) if (producer.track === track) return true;

		return false;
	}

	/**
	 * Pauses or resumes our producer here (no RTP leaves the browser) and on
	 * the server, which tells the others (producerPaused/producerResumed).
	 */
	async setPaused(producerId: string, paused: boolean): Promise<void> {
		const entry = this.#producers.get(producerId);

		if (!entry) return;
		// Always asked of the server: a producer made from a disabled track starts paused here only.
		if (entry.producer.paused !== paused) {
			if (paused) entry.producer.pause();
			else entry.producer.resume();
			this.#events.changed();
		}
		await this.#signaling.request(paused ? 'pauseProducer' : 'resumeProducer', { roomId: this.#roomId, producerId });
	}

	/** Sends `track` on our producer instead of its current one (a camera captured again). */
	async replaceTrack(producerId: string, track: Track): Promise<void> {
		await this.#producers.get(producerId)?.producer.replaceTrack({ track });
	}

	/** Closes our producer; tells the server unless it no longer has it. */
	async closeProducer(producerId: string, tellServer = true): Promise<void> {
		const entry = this.#producers.get(producerId);

		if (!entry) return;
		this.#producers.delete(producerId);
		entry.producer.close();
		this.#events.changed();
		if (!tellServer) return;
		try {
			await this.#signaling.request('closeProducer', { roomId: this.#roomId, producerId });
		} catch (error) {
			this.#events.error('closeProducer', error);
		}
	}

	// ---- Data channels ----

	/** Opens an ordered, reliable data channel `label` on the send transport. */
	async produceData(label: string): Promise<ms.DataProducer> {
		const transport = this.transport('send')?.transport;

		if (!transport) throw new Error('no send transport');

		const dataProducer = await transport.produceData({ ordered: true, label });

		this.#dataProducers.set(dataProducer.id, dataProducer);
		dataProducer.on('transportclose', () => this.#dataProducers.delete(dataProducer.id));
		this.#events.log('producedData', { dataProducerId: dataProducer.id, label });

		return dataProducer;
	}

	dataProducer(label: string): ms.DataProducer | undefined {
		for (const dataProducer of this.#dataProducers.values()) if (dataProducer.label === label) return dataProducer;

		return undefined;
	}

	/** Forgets a data producer the server no longer has. */
	dropDataProducer(dataProducerId: string): void {
		this.#dataProducers.get(dataProducerId)?.close();
		this.#dataProducers.delete(dataProducerId);
	}

	/** Consumes a remote data producer once the gate is open, as consume() does for media. */
	async consumeData(info: DataProducerInfo): Promise<void> {
		if (this.#consuming.has(info.dataProducerId)) return;
		this.#consuming.add(info.dataProducerId);
		try {
			await this.#ready();
			if (!this.#events.wanted(info.dataProducerId, info.peerId)) return;
			for (const { dataConsumer } of this.#dataConsumers.values()) if (dataConsumer.dataProducerId === info.dataProducerId) return;
			await this.#consumeDataNow(info);
		} finally {
			this.#consuming.delete(info.dataProducerId);
		}
	}

	async #consumeDataNow(info: DataProducerInfo): Promise<void> {
		const transport = this.transport('recv')?.transport;

		if (!transport) throw new Error('no recv transport');

		let data: Responses['consumeData'];

		try {
			data = await this.#signaling.request('consumeData', { roomId: this.#roomId, dataProducerId: info.dataProducerId });
		} catch (error) {
			if (errorCode(error) === ErrorCode.NOT_FOUND) return;
			throw error;
		}

		const dataConsumer = await transport.consumeData({
			id: data.dataConsumerId,
			dataProducerId: data.dataProducerId,
			sctpStreamParameters: data.sctpStreamParameters,
			label: data.label,
			protocol: data.protocol
		});

		this.#dataConsumers.set(dataConsumer.id, { dataConsumer, peerId: info.peerId });
		dataConsumer.on('transportclose', () => this.#dataConsumers.delete(dataConsumer.id));
		dataConsumer.on('message', (message: unknown) => {
			if (typeof message === 'string') this.#events.dataMessage(info.peerId, dataConsumer.label, message);
		});
		this.#events.log('consumedData', { dataConsumerId: dataConsumer.id, dataProducerId: info.dataProducerId, peerId: info.peerId });
		if (!this.#events.wanted(info.dataProducerId, info.peerId)) this.closeDataConsumer(dataConsumer.id);
	}

	closeDataConsumer(dataConsumerId: string): void {
		this.#dataConsumers.get(dataConsumerId)?.dataConsumer.close();
		this.#dataConsumers.delete(dataConsumerId);
	}

	closeDataConsumersWhere(match: (entry: DataConsumerEntry) => boolean): void {
		for (const [id, entry] of [...this.#dataConsumers]) if (match(entry)) this.closeDataConsumer(id);
	}

	// ---- Consuming ----

	/** Lets consumption run (transports exist, signaling is up). */
	openGate(): void {
		this.#gate.resolve();
	}

	/** Makes consumption wait again; whoever waited on the old gate waits on the new one. */
	closeGate(): void {
		const old = this.#gate;

		this.#gate = deferred();
		old.resolve();
	}

	async #ready(): Promise<void> {
		for (;;) {
			const gate = this.#gate;

			await gate.promise;
			if (gate === this.#gate) return;
		}
	}

	#consumerOf(producerId: string): ConsumerEntry | undefined {
		for (const entry of this.#consumers.values()) if (entry.consumer.producerId === producerId) return entry;

		return undefined;
	}

	/** Consumes a remote producer once the gate is open, unless we already do or it is gone by then. */
	async consume(info: ProducerInfo): Promise<void> {
		if (this.#consuming.has(info.producerId)) return;
		this.#consuming.add(info.producerId);
		try {
			for (let attempt = 1; ; attempt++) {
				await this.#ready();
				if (!this.#events.wanted(info.producerId, info.peerId) || this.#consumerOf(info.producerId)) return;
				try {
					await this.#consumeNow(info);

					return;
				} catch (error) {
					// A lost connection is dealt with by the resync after rejoinRoom; a slow
					// server (request timeout) or a failed renegotiation is worth another try.
					if (attempt >= CONSUME_ATTEMPTS || !this.#signaling.connected) throw error;
					this.#events.error(`consume ${info.producerId} (attempt ${attempt}, retrying)`, error);
					await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
				}
			}
		} finally {
			this.#consuming.delete(info.producerId);
		}
	}

	async #consumeNow(info: ProducerInfo): Promise<void> {
		const transport = this.transport('recv')?.transport;

		if (!transport) throw new Error('no recv transport');

		let data: ConsumeResponse;

		try {
			data = await this.#requestConsume(info.producerId);
		} catch (error) {
			// The producer may have closed in the meantime.
			if (errorCode(error) === ErrorCode.NOT_FOUND) return;
			throw error;
		}

		const source = sourceOf(data.metadata, data.kind);
		let consumer: ms.Consumer;

		try {
			consumer = await transport.consume({
				id: data.consumerId,
				producerId: data.producerId,
				kind: data.kind,
				rtpParameters: data.rtpParameters,
				streamId: `${data.peerId}-${source}`,
				appData: { peerId: data.peerId, source }
			});
		} catch (error) {
			// The server's consumer would stay paused there until we leave: free it.
			this.#signaling.send('closeConsumer', { roomId: this.#roomId, consumerId: data.consumerId });
			throw error;
		}
		const entry: ConsumerEntry = { consumer, peerId: data.peerId, source, producerPaused: data.producerPaused, type: data.type };

		this.#consumers.set(consumer.id, entry);
		consumer.on('transportclose', () => this.closeConsumer(consumer.id, 'transport closed'));
		this.#events.log('consumed', { consumerId: consumer.id, producerId: data.producerId, peerId: data.peerId, kind: data.kind, source });
		if (!this.#events.wanted(data.producerId, data.peerId)) {
			// producerClosed or peerLeft arrived while we were creating it.
			this.closeConsumer(consumer.id, 'producerClosed');
			return;
		}
		this.#events.changed();
		// Audio consumers start unpaused; video ones wait until we are ready for the key frame.
		if (data.paused) await this.resumeConsumer(consumer.id);
	}

	/** A consume that joins the consumeMany of every consume() passing the gate in the same task. */
	async #requestConsume(producerId: string): Promise<ConsumeResponse> {
		if (!this.#batch || this.#batch.producerIds.length >= MAX_CONSUME_MANY) {
			const producerIds: string[] = [];
			const sent = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
				if (this.#batch?.producerIds === producerIds) this.#batch = undefined;

				return this.#signaling.request('consumeMany', {
					roomId: this.#roomId,
					producerIds,
					...(this.#capabilitiesSent ? {} : { rtpCapabilities: this.#device.rtpCapabilities })
				});
			});

			this.#batch = { producerIds, answer: sent };
		}

		const batch = this.#batch;

		batch.producerIds.push(producerId);

		const answer = await batch.answer;
		const data = answer.consumers.find((c) => c.producerId === producerId);

		if (data) {
			this.#capabilitiesSent = true;

			return data;
		}

		const failure = answer.failed.find((f) => f.producerId === producerId);

		throw Object.assign(new Error(failure?.errorReason ?? `consumeMany did not answer for ${producerId}`), { code: failure?.errorCode ?? ErrorCode.INTERNAL });
	}

	/** The server creates consumers paused until we are ready for them; resuming one twice is harmless. */
	async resumeConsumer(consumerId: string): Promise<void> {
		for (let attempt = 1; ; attempt++) {
			try {
				await this.#signaling.request('resumeConsumer', { roomId: this.#roomId, consumerId });

				return;
			} catch (error) {
				// Not found: closed meanwhile. Not connected: rejoinRoom resyncs.
				const closed = !this.#consumers.has(consumerId) || errorCode(error) === ErrorCode.NOT_FOUND;

				if (closed || !this.#signaling.connected || attempt >= CONSUME_ATTEMPTS) {
					this.#events.error(`resumeConsumer ${consumerId}`, error);

					return;
				}
			}
		}
	}

	/** Asks the server for at most these layers of a consumer (a small tile needs no top layer); the server's budget may give less. */
	async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
		await this.#signaling.request('setConsumerPreferredLayers', { roomId: this.#roomId, consumerId, spatialLayer, ...(temporalLayer === undefined ? {} : { temporalLayer }) });
	}

	/** Records what the server says a consumer forwards (consumerLayersChanged, consumerScore). */
	setConsumerFeedback(consumerId: string, feedback: Pick<ConsumerEntry, 'layers' | 'score'>): void {
		const entry = this.#consumers.get(consumerId);

		if (entry) Object.assign(entry, feedback);
	}

	/** Marks the remote producer paused or resumed on our consumer of it. */
	setProducerPaused(producerId: string, paused: boolean): void {
		const entry = this.#consumerOf(producerId);

		if (entry) entry.producerPaused = paused;
	}

	closeConsumer(consumerId: string, reason: string): void {
		const entry = this.#consumers.get(consumerId);

		if (!entry) return;
		this.#consumers.delete(consumerId);
		entry.consumer.close(); // stops its track
		this.#closedConsumers.push({ ...consumerState(entry), closedAt: Date.now(), reason });
		this.#events.log('consumerClosed', { consumerId, producerId: entry.consumer.producerId, reason, trackState: entry.consumer.track.readyState });
		this.#events.changed();
	}

	/** Closes our consumers of the producers or peers `match` picks. */
	closeConsumersWhere(match: (entry: ConsumerEntry) => boolean, reason: string): void {
		for (const [id, entry] of [...this.#consumers]) if (match(entry)) this.closeConsumer(id, reason);
	}

	/** Closes every transport, producer and consumer (the capture tracks stay). */
	reset(reason: string): void {
		this.closeGate();
		this.closeConsumersWhere(() => true, reason);
		for (const entry of this.#producers.values()) entry.producer.close();
		this.#producers.clear();
		this.closeDataConsumersWhere(() => true);
		for (const dataProducer of this.#dataProducers.values()) dataProducer.close();
		this.#dataProducers.clear();
		for (const entry of this.#transports.values()) entry.transport.close();
		this.#transports.clear();
	}
}

export function consumerState(entry: ConsumerEntry): ConsumerState {
	const { consumer } = entry;

	return {
		consumerId: consumer.id,
		producerId: consumer.producerId,
		peerId: entry.peerId,
		kind: consumer.kind,
		source: entry.source,
		paused: consumer.paused,
		producerPaused: entry.producerPaused,
		trackState: consumer.track.readyState,
		type: entry.type,
		codec: consumer.rtpParameters.codecs[0]?.mimeType ?? '',
		...(entry.layers !== undefined ? { layers: entry.layers } : {}),
		...(entry.score ? { score: entry.score } : {})
	};
}
