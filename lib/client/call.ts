// One participant's call: joining (or creating) a room, the server's
// notifications (roster.ts keeps the other peers), and taking the peer back
// after the WebSocket drops (rejoinRoom, then the resync of resync.ts).
//
// Signaling and media are separate objects (signaling.ts, media.ts); the
// capture of tracks is handed in, so this runs in Node too (the tests use
// FakeHandler and fake tracks). The browser's CallClient adds the camera,
// the screen share and the page's hooks.
//
// The UI listens to 'change' events and reads state(); the E2E tests do the
// same through window.vcall.

import type { Device } from 'mediasoup-client';
import type { Peer } from 'protoo-client';
import { ErrorCode } from '../protocol/errors.js';
import type { DataProducerInfo, Notification, PeerInfo, ProducerInfo, RejoinResponse } from '../protocol/methods.js';
import type { ChatMessage, ClientEvent, ClientState, Phase, Source } from './api.js';
import { consumerState, Media, type ConsumerEntry, type Direction, type MediaOptions, type ProducerEntry, type Track, type TransportEntry } from './media.js';
import { applyResync, planResync, type ResyncTarget } from './resync.js';
import { Roster } from './roster.js';
import { errorCode, errorMessage, Signaling } from './signaling.js';

export type { ConsumerEntry, ProducerEntry, Track };

export interface CallOptions extends MediaOptions {
	/** ws:// or wss:// URL of the vcall server. */
	serverUrl: string;
	/** A room id to join, or 'create'. */
	room: string;
	displayName: string;
	audio: boolean;
	video: boolean;
	width: number;
	height: number;
	frameRate: number;
	/** Echo cancellation, noise suppression and gain control on the microphone. */
	audioProcessing: boolean;
	/** Send leaveRoom when the page is closed normally (pagehide). */
	leaveOnUnload: boolean;
	/** The microphone and camera picked before joining (default: the browser's). */
	audioDeviceId?: string;
	videoDeviceId?: string;
}

/** What the call is built from: the caller picks the WebSocket, the WebRTC handler and the capture. */
/** Which of the microphone and the camera to capture. */
export interface Capture {
	audio: boolean;
	video: boolean;
}

export interface CallParts {
	/** Makes the protoo-client Peer (it connects at once). */
	connect(): Peer;
	device: Device;
	/** The microphone and camera tracks asked for. */
	capture(sources: Capture): Promise<Map<Source, Track>>;
}

const MAX_EVENTS = 2000;
/** The label of the data channel each peer opens for chat. */
const CHAT = 'chat';
/** Longest chat message sent (in characters); the server's MAX_DATA_MESSAGE_BYTES bounds the frame. */
const MAX_CHAT_CHARS = 2000;

/** A chat frame's text, or undefined for anything else. */
function chatText(message: string): string | undefined {
	try {
		const frame = JSON.parse(message) as { text?: unknown };

		return typeof frame.text === 'string' ? frame.text.slice(0, MAX_CHAT_CHARS) : undefined;
	} catch {
		return undefined;
	}
}


export class Call extends EventTarget {
	readonly options: CallOptions;
	readonly #parts: CallParts;
	#signaling: Signaling | undefined;
	#media: Media | undefined;
	#phase: Phase = 'idle';
	#connection: ClientState['connection'] = 'connecting';
	#roomId: string | undefined;
	#peerId: string | undefined;
	#reconnectToken: string | undefined;
	#everJoined = false;
	readonly #roster = new Roster({
		peerGone: (peerId, reason) => {
			this.#media?.closeConsumersWhere((entry) => entry.peerId === peerId, reason);
			this.#media?.closeDataConsumersWhere((entry) => entry.peerId === peerId);
		},
		producerGone: (producerId, reason) => this.#media?.closeConsumersWhere((entry) => entry.consumer.producerId === producerId, reason),
		dataProducerGone: (dataProducerId) => this.#media?.closeDataConsumersWhere((entry) => entry.dataConsumer.dataProducerId === dataProducerId)
	});
	readonly #events: ClientEvent[] = [];
	readonly #errors: string[] = [];
	/** Chat messages, kept while the page lives. */
	readonly #chat: ChatMessage[] = [];
	#activeSpeaker: string | null = null;
	/** Sources the user turned off (mute, camera off): their producers stay, paused. */
	readonly #off = new Set<Source>();
	/** Why the call ended (roomClosed's reason), once it has. */
	#endReason: string | undefined;
	#disconnects = 0;
	#rejoins = 0;
	/** Joining, rejoining and screen share run one at a time, in order. */
	#queue: Promise<unknown> = Promise.resolve();
	/** Capture tracks (microphone, camera, screen), kept across a fresh re-join but the screen. */
	readonly #tracks = new Map<Source, { track: Track; capture?: string }>();

	constructor(options: CallOptions, parts: CallParts) {
		super();
		this.options = options;
		this.#parts = parts;
	}

	// ---- Reading state ----

	get roomId(): string | undefined {
		return this.#roomId;
	}

	get peerId(): string | undefined {
		return this.#peerId;
	}

	get phase(): Phase {
		return this.#phase;
	}

	/** The room's active speaker, null in a silence. */
	get activeSpeaker(): string | null {
		return this.#activeSpeaker;
	}

	get consumers(): IterableIterator<ConsumerEntry> {
		return this.#media?.consumers ?? [].values();
	}

	get producers(): IterableIterator<ProducerEntry> {
		return this.#media?.producers ?? [].values();
	}

	localTrack(source: Source): Track | undefined {
		return this.#tracks.get(source)?.track;
	}

	transport(direction: Direction): TransportEntry['transport'] | undefined {
		return this.#media?.transport(direction)?.transport;
	}

	/** Whether we send `source` (captured and not turned off). */
	sending(source: Source): boolean {
		return this.#tracks.has(source) && !this.#off.has(source);
	}

	remotePeerName(peerId: string): string {
		return this.#roster.name(peerId);
	}

	state(): ClientState {
		const media = this.#media;

		return {
			phase: this.#phase,
			connection: this.#connection,
			serverUrl: this.options.serverUrl,
			roomId: this.#roomId,
			peerId: this.#peerId,
			displayName: this.options.displayName,
			sending: { mic: this.sending('mic'), camera: this.sending('camera') },
			...(this.#endReason ? { endReason: this.#endReason } : {}),
			peers: this.#roster.state(),
			producers: [...this.producers].map(({ producer, source, capture }) => {
				const settings = producer.track?.getSettings();

				return {
					producerId: producer.id,
					kind: producer.kind,
					source,
					paused: producer.paused,
					trackState: producer.track?.readyState ?? 'none',
					codec: producer.rtpParameters.codecs[0]?.mimeType ?? '',
					encodings: (producer.rtpParameters.encodings ?? []).map((e) => e.scalabilityMode ?? 'L1T1'),
					...(capture ? { capture } : {}),
					...(settings && producer.kind === 'video'
						? { settings: { width: settings.width, height: settings.height, frameRate: settings.frameRate } }
						: {}),
					...(settings?.deviceId ? { deviceId: settings.deviceId } : {})
				};
			}),
			consumers: [...this.consumers].map(consumerState),
			closedConsumers: [...(media?.closedConsumers ?? [])],
			transports: [...(media?.transports ?? [])].map((t) => ({
				id: t.transport.id,
				direction: t.direction,
				connectionState: t.transport.connectionState,
				iceRestarts: t.iceRestarts,
				serverIceUfrag: t.serverIceUfrag
			})),
			chat: [...this.#chat],
			activeSpeaker: this.#activeSpeaker,
			events: [...this.#events],
			disconnects: this.#disconnects,
			rejoins: this.#rejoins,
			errors: [...this.#errors]
		};
	}

	// ---- Joining and leaving ----

	/** Connects and joins (or creates) the room; resolves once joined. */
	start(): Promise<void> {
		if (this.#signaling) throw new Error('already started');

		const joined = this.whenJoined(60_000);

		this.#setPhase('connecting');

		const signaling = new Signaling(this.#parts.connect(), {
			open: () => this.#onOpen(),
			disconnected: () => this.#onDisconnected(),
			failed: (attempt) => this.log('connectFailed', { attempt }),
			closed: () => this.#onClosed(),
			notification: (notification) => this.#onNotification(notification),
			error: (where, error) => this.error(where, error)
		});

		this.#signaling = signaling;
		this.#media = new Media(this.#parts.device, signaling, this.options, {
			log: (type, data) => this.log(type, data),
			error: (where, error) => this.error(where, error),
			changed: () => this.changed(),
			wanted: (producerId, peerId) => this.#roster.sends(peerId, producerId),
			dataMessage: (peerId, label, message) => {
				const text = label === CHAT ? chatText(message) : undefined;

				if (text !== undefined) this.#addChat(peerId, this.remotePeerName(peerId), text);
			},
			trackEnded: (source) => {
				if (source === 'screen') void this.stopScreenShare();
			}
		});

		return joined;
	}

	/** Resolves once the phase is 'joined'. */
	whenJoined(timeoutMs = 30_000): Promise<void> {
		if (this.#phase === 'joined') return Promise.resolve();

		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.removeEventListener('change', check);
				reject(new Error(`not joined after ${timeoutMs} ms (phase ${this.#phase})`));
			}, timeoutMs);
			const check = (): void => {
				if (this.#phase === 'joined') resolve();
				else if (this.#phase === 'failed' || this.#phase === 'closed') reject(new Error(`call ${this.#phase}: ${this.#errors.at(-1) ?? ''}`));
				else return;
				clearTimeout(timer);
				this.removeEventListener('change', check);
			};

			this.addEventListener('change', check);
		});
	}

	async leave(): Promise<void> {
		if (this.#phase === 'left' || this.#phase === 'closed') return;
		try {
			if (this.#roomId && this.#signaling?.connected) await this.#signaling.request('leaveRoom', { roomId: this.#roomId });
		} catch (error) {
			this.error('leaveRoom', error);
		}
		this.#teardown('left');
		this.#signaling?.close();
	}

	/** Sends leaveRoom without waiting (the page is going away). */
	leaveNow(): void {
		if (this.#roomId && this.#phase !== 'left') this.#signaling?.send('leaveRoom', { roomId: this.#roomId });
	}

	#onOpen(): void {
		this.#connection = 'open';
		this.log('open');
		if (!this.#everJoined) void this.enqueue('join', () => this.#join(), true);
		else void this.enqueue('rejoin', () => this.#rejoin(), true);
		this.changed();
	}

	#onDisconnected(): void {
		this.#disconnects++;
		this.#connection = 'disconnected';
		this.#media?.closeGate();
		this.log('disconnected');
		this.changed();
	}

	#onClosed(): void {
		this.#connection = 'closed';
		this.log('closed');
		// After leave or roomClosed the call is over already: keep why.
		if (this.#phase !== 'left' && this.#phase !== 'closed') this.#teardown(this.#phase === 'joined' || this.#phase === 'rejoining' ? 'closed' : 'failed');
		this.changed();
	}

	#need(): { signaling: Signaling; media: Media } {
		const signaling = this.#signaling;
		const media = this.#media;

		if (!signaling || !media) throw new Error('not started');

		return { signaling, media };
	}

	async #join(): Promise<void> {
		const { signaling, media } = this.#need();

		this.#setPhase('joining');

		const metadata = { displayName: this.options.displayName };
		const response =
			this.options.room === 'create' || !this.options.room
				? await signaling.request('createRoom', { metadata })
				: await signaling.request('joinRoom', { roomId: this.options.room, metadata });

		this.#roomId = response.roomId;
		this.#peerId = response.peerId;
		this.#reconnectToken = response.reconnectToken;
		this.#everJoined = true;
		// The roster now, before any await: notifications that arrive while the
		// transports are made are newer than this answer, and must not be undone
		// by it (a newProducer would be taken for one gone and never consumed).
		for (const info of response.peers) this.#roster.sync(info);
		this.#consumeMissing(response.peers);

		await media.load(response.roomId);
		await media.createTransport('recv');
		await media.createTransport('send');
		signaling.startHeartbeat();

		// Send first, then receive: the consumers wait for the gate (also when the camera is refused).
		try {
			await this.#openChat();
			await this.#captureLocalMedia();
			await this.#produceMissing();
		} finally {
			media.openGate();
		}
		this.#setPhase('joined');
	}

	/** After a WebSocket drop: take the peer back, then resync transports, producers and consumers. */
	async #rejoin(): Promise<void> {
		const { signaling, media } = this.#need();
		const roomId = this.#roomId;
		const peerId = this.#peerId;
		const token = this.#reconnectToken;

		if (!roomId || !peerId || !token) return this.#join();

		const started = Date.now();

		this.#setPhase('rejoining');

		let response: RejoinResponse;

		try {
			response = await signaling.request('rejoinRoom', { roomId, peerId, reconnectToken: token });
		} catch (error) {
			const code = errorCode(error);

			if (code === ErrorCode.UNAUTHORIZED) {
				// The grace period is over: our peer is gone, the room is still there. Join it afresh.
				this.log('rejoinRefused', { code, message: errorMessage(error) });
				this.#resetMedia('rejoin refused');
				this.options.room = roomId;

				return this.#join();
			}
			if (code === ErrorCode.NOT_FOUND) {
				// The room is gone.
				this.log('rejoinRefused', { code, message: errorMessage(error) });
				this.#errors.push(`rejoinRoom: ${errorMessage(error)}`);
				this.#endReason = 'the room is gone';
				this.#teardown('closed');
				signaling.close();

				return;
			}
			throw error;
		}

		// Each token is good for one rejoin.
		this.#reconnectToken = response.reconnectToken;
		this.#rejoins++;
		this.log('rejoined', { ms: Date.now() - started });

		const plan = planResync(
			{
				transports: [...media.transports].map((t) => ({ transportId: t.transport.id, direction: t.direction })),
				producers: [...media.producers].map((p) => ({ producerId: p.producer.id })),
				consumers: [...media.consumers].map((c) => ({ consumerId: c.consumer.id })),
				dataProducers: [...media.dataProducers].map((d) => ({ dataProducerId: d.id })),
				dataConsumers: [...media.dataConsumers].map((d) => ({ dataConsumerId: d.dataConsumer.id })),
				peers: this.#roster.peerIds()
			},
			response
		);

		this.log('resyncPlan', plan);
		await applyResync(plan, this.#resyncTarget(signaling, media, roomId));
		media.openGate();
		this.log('resynced', { ms: Date.now() - started, consumers: [...media.consumers].length, peers: this.#roster.size });
		this.#setPhase('joined');
	}

	#resyncTarget(signaling: Signaling, media: Media, roomId: string): ResyncTarget {
		return {
			removePeer: (peerId, reason) => this.#roster.remove(peerId, reason),
			syncPeer: (info) => this.#roster.sync(info),
			closeLocalConsumer: (consumerId, reason) => media.closeConsumer(consumerId, reason),
			closeLocalDataConsumer: (dataConsumerId) => media.closeDataConsumer(dataConsumerId),
			dropLocalDataProducer: (dataProducerId) => media.dropDataProducer(dataProducerId),
			closeServerObject: async (method, id) => {
				this.log('closeOrphan', { method, id });
				await signaling
					.request(method, method === 'closeConsumer' ? { roomId, consumerId: id } : { roomId, producerId: id })
					.catch((error: unknown) => this.error(`${method} after rejoin`, error));
			},
			resumeConsumer: (consumerId) => media.resumeConsumer(consumerId),
			dropLocalProducer: async (producerId) => {
				this.log('producerLost', { producerId });
				await media.closeProducer(producerId, false);
			},
			restartIce: async (direction) => {
				const entry = media.transport(direction);

				if (entry) await media.restartIce(entry);
			},
			replaceTransport: async (direction) => {
				await media.replaceTransport(direction);
			},
			produceMissing: async () => {
				await this.#openChat();
				await this.#produceMissing();
			},
			consumeMissing: (peers) => this.#consumeMissing(peers)
		};
	}

	// ---- Producing ----

	async #captureLocalMedia(): Promise<void> {
		const { audio, video } = this.options;

		if ((!audio && !video) || this.#tracks.has('mic') || this.#tracks.has('camera')) return;
		await this.#capture({ audio, video });
	}

	async #capture(sources: Capture): Promise<void> {
		for (const [source, track] of await this.#parts.capture(sources)) {
			// Only what was asked for: the track of a source already sent stays.
			if (source === 'mic' ? sources.audio : source === 'camera' ? sources.video : false) this.#tracks.set(source, { track });
			else track.stop();
		}
		this.dispatchEvent(new Event('localmedia'));
	}

	/** Produces every live capture track that has no producer (at join, and after a drop lost some). */
	async #produceMissing(): Promise<void> {
		const media = this.#media;

		if (!media) return;
		for (const [source, { track, capture }] of this.#tracks) {
			if (track.readyState !== 'live' || media.producing(track)) continue;

			const producer = await media.produce(track, source, capture);

			// Turned off before joining, or before a drop lost the producer.
			if (this.#off.has(source)) await media.setPaused(producer.id, true);
		}
	}

	/**
	 * Mute/unmute (source 'mic') and camera off/on ('camera'): pauses or
	 * resumes the producer, so the others see it (producerPaused/Resumed).
	 * Camera off also stops the camera track (its light goes off); turning a
	 * source on captures it again if it has no live track, and produces it if
	 * it has no producer.
	 */
	setSourceEnabled(source: 'mic' | 'camera', enabled: boolean): Promise<void> {
		if (enabled) this.#off.delete(source);
		else this.#off.add(source);
		this.changed();

		return this.enqueue(`${enabled ? 'enable' : 'disable'} ${source}`, async () => {
			const media = this.#media;
			const entry = [...(media?.producers ?? [])].find((p) => p.source === source);

			if (!enabled) {
				if (entry) await media?.setPaused(entry.producer.id, true);
				if (source === 'camera') this.#tracks.get(source)?.track.stop();

				return;
			}
			if (this.#tracks.get(source)?.track.readyState !== 'live') {
				try {
					await this.#capture({ audio: source === 'mic', video: source === 'camera' });
				} catch (error) {
					// No device (or refused): it stays off.
					this.#off.add(source);
					this.changed();
					throw error;
				}
			}

			const track = this.#tracks.get(source)?.track;

			if (entry && track) {
				await media?.replaceTrack(entry.producer.id, track);
				await media?.setPaused(entry.producer.id, false);
			} else if (this.#phase === 'joined') await this.#produceMissing();
		});
	}

	/**
	 * Moves `source` to another microphone or camera during the call: the new
	 * device is captured, its track replaces the old one in the same producer
	 * (the others see no new producer), and the old track stops. A source
	 * that is off only remembers the device for when it is turned on.
	 */
	switchDevice(source: 'mic' | 'camera', deviceId: string): Promise<void> {
		if (source === 'mic') this.options.audioDeviceId = deviceId;
		else this.options.videoDeviceId = deviceId;

		return this.enqueue(`switch ${source}`, async () => {
			const previous = this.#tracks.get(source)?.track;

			if (this.#off.has(source) || previous?.readyState !== 'live') return;
			await this.#capture({ audio: source === 'mic', video: source === 'camera' });

			const track = this.#tracks.get(source)?.track;
			const media = this.#media;
			const entry = [...(media?.producers ?? [])].find((p) => p.source === source);

			if (entry && track) {
				try {
					await media?.replaceTrack(entry.producer.id, track);
				} catch (error) {
					// The producer still sends the old track: keep it, drop the new one.
					this.#tracks.set(source, { track: previous });
					track.stop();
					throw error;
				}
			}
			if (track !== previous) previous.stop();
			this.log('deviceSwitched', { source, deviceId });
			this.changed();
		});
	}

	/** Produces another track (a screen share) as a producer of `source`. */
	protected async produceTrack(track: Track, source: Source, capture?: string): Promise<string> {
		if (this.#tracks.has(source)) throw new Error(`already sending ${source}`);
		this.#tracks.set(source, { track, ...(capture ? { capture } : {}) });

		const producer = await this.enqueue(`produce ${source}`, () => this.#need().media.produce(track, source, capture));

		return producer.id;
	}

	/** Closes the producer of `source` and stops its track. */
	protected async stopTrack(source: Source): Promise<void> {
		const entry = this.#tracks.get(source);

		if (!entry) return;
		this.#tracks.delete(source);
		await this.enqueue(`stop ${source}`, async () => {
			const media = this.#media;

			for (const { producer } of [...(media?.producers ?? [])]) if (producer.track === entry.track) await media?.closeProducer(producer.id);
		});
		entry.track.stop();
		this.changed();
	}

	stopScreenShare(): Promise<void> {
		return this.stopTrack('screen');
	}

	// ---- Layers ----

	/** Asks for at most these layers of a consumer (e.g. a small tile); the server's downlink budget may give less. */
	setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
		return this.#need().media.setPreferredLayers(consumerId, spatialLayer, temporalLayer);
	}

	// ---- Chat ----

	/** Sends a chat message to everyone in the room over our chat data channel. */
	sendChat(text: string): void {
		const channel = this.#media?.dataProducer(CHAT);
		const trimmed = text.trim().slice(0, MAX_CHAT_CHARS);

		if (!trimmed) return;
		if (!channel || channel.readyState !== 'open') throw new Error('chat is not connected');
		channel.send(JSON.stringify({ text: trimmed }));
		this.#addChat(this.#peerId ?? '', this.options.displayName, trimmed);
	}

	#addChat(peerId: string, name: string, text: string): void {
		this.#chat.push({ peerId, name, text, at: Date.now(), own: peerId === this.#peerId });
		this.dispatchEvent(new Event('chat'));
		this.changed();
	}

	/** Opens our chat channel unless it is open (at join, and after a drop lost it). */
	async #openChat(): Promise<void> {
		const media = this.#media;

		if (!media || media.dataProducer(CHAT) || !this.transport('send')) return;
		await media.produceData(CHAT);
	}

	// ---- Consuming and the roster ----

	#consumeMissing(peers: PeerInfo[]): void {
		for (const info of peers) {
			for (const producer of info.producers) this.#consume(producer);
			for (const dataProducer of info.dataProducers) this.#consumeData(dataProducer);
		}
	}

	#consumeData(info: DataProducerInfo): void {
		if (info.peerId === this.#peerId) return;
		this.#media?.consumeData(info).catch((error: unknown) => this.error(`consumeData ${info.dataProducerId}`, error));
	}

	#consume(info: ProducerInfo): void {
		if (info.peerId === this.#peerId) return;
		this.#media?.consume(info).catch((error: unknown) => this.error(`consume ${info.producerId}`, error));
	}

	#onNotification(notification: Notification): void {
		this.log(notification.method, notification.data);

		switch (notification.method) {
			case 'peerJoined':
				this.#roster.add(notification.data.peerId, notification.data.metadata);
				break;
			case 'newProducer': {
				const info: ProducerInfo = { ...notification.data, paused: false };

				this.#roster.addProducer(info);
				this.#consume(info);
				break;
			}
			case 'producerClosed':
				this.#roster.removeProducer(notification.data.producerId, 'producerClosed');
				break;
			case 'producerPaused':
			case 'producerResumed': {
				const { producerId, peerId } = notification.data;
				const paused = notification.method === 'producerPaused';
				this.#roster.setPaused(peerId, producerId, paused);
				this.#media?.setProducerPaused(producerId, paused);
				break;
			}
			case 'peerLeft':
				this.#roster.remove(notification.data.peerId, 'peerLeft');
				break;
			case 'newDataProducer':
				this.#roster.addDataProducer(notification.data);
				this.#consumeData(notification.data);
				break;
			case 'dataProducerClosed':
				this.#roster.removeDataProducer(notification.data.dataProducerId);
				break;
			case 'roomClosed':
				this.#endReason = notification.data.reason;
				this.#teardown('closed');
				this.#signaling?.close();
				break;
			case 'error':
				this.#errors.push(`server error ${notification.data.code}: ${notification.data.message}`);
				break;
			case 'activeSpeaker':
				this.#activeSpeaker = notification.data.peerId;
				break;
			case 'consumerLayersChanged': {
				const { consumerId, spatialLayer, temporalLayer } = notification.data;

				this.#media?.setConsumerFeedback(consumerId, { layers: spatialLayer === null || temporalLayer === null ? null : { spatialLayer, temporalLayer } });
				break;
			}
			case 'consumerScore':
				this.#media?.setConsumerFeedback(notification.data.consumerId, { score: { score: notification.data.score, producerScore: notification.data.producerScore } });
				break;
			case 'roomCreated':
				break;
			default:
				notification satisfies never;
		}
		this.changed();
	}

	// ---- Plumbing ----

	/** Runs `task` after the queued ones; a failure of a `fatal` task (join, rejoin) fails the call. */
	protected enqueue<T>(name: string, task: () => Promise<T>, fatal = false): Promise<T> {
		const run = this.#queue.then(task);

		this.#queue = run.catch((error: unknown) => this.error(name, error, fatal));

		return run;
	}

	/** Closes every transport, producer and consumer and forgets the peers; the camera and microphone stay, a screen share ends. */
	#resetMedia(reason: string): void {
		this.#media?.reset(reason);
		this.#roster.clear();
		this.#tracks.get('screen')?.track.stop();
		this.#tracks.delete('screen');
	}

	#teardown(phase: Phase): void {
		this.#signaling?.stopHeartbeat();
		this.#resetMedia(phase);
		for (const { track } of this.#tracks.values()) track.stop();
		this.#tracks.clear();
		this.#setPhase(phase);
	}

	#setPhase(phase: Phase): void {
		if (this.#phase === phase) return;
		this.#phase = phase;
		this.log('phase', { phase });
		this.changed();
	}

	protected log(type: string, data?: unknown): void {
		this.#events.push({ at: Date.now(), type, ...(data !== undefined ? { data } : {}) });
		if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
	}

	protected error(where: string, error: unknown, fatal = false): void {
		const text = `${where}: ${errorMessage(error)}`;

		this.#errors.push(text);
		this.log('error', { where, message: errorMessage(error) });
		console.warn('[vcall]', text);
		// A join that fails is over; a rejoin that fails because the socket dropped again is retried on the next 'open'.
		if (fatal && this.#signaling?.connected) this.#setPhase('failed');
		this.changed();
	}

	protected changed(): void {
		this.dispatchEvent(new Event('change'));
	}
}
