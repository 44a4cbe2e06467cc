// The call logic of the browser client: protoo signaling with the vcall
// server, one mediasoup-client send transport and one receive transport,
// producers for the microphone, the camera and an optional screen share, a
// consumer for every producer of every other peer, and recovery after the
// WebSocket drops (rejoinRoom, restartIce, resync of consumers).
//
// It knows nothing of the page: the UI listens to 'change' events and reads
// state(); the E2E tests do the same through window.vcall.

import { Device, type types as ms } from 'mediasoup-client';
import { Peer, WebSocketTransport } from 'protoo-client';
import { ErrorCode } from '../protocol/errors.js';
import type { Notification, PeerInfo, ProducerInfo, RejoinResponse, RequestMethod, RequestParams, Responses } from '../protocol/methods.js';
import { asNotification, request } from '../protocol/request.js';
import type { ClientEvent, ClientState, ClosedConsumerState, Phase, ScreenShareResult, Source } from './api.js';
import { wsControl } from './websocket-shim.js';

export interface CallOptions {
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
	/** Cap on the camera's bitrate (kbit/s); 0 leaves it to the browser. */
	maxVideoKbps: number;
	/** ICE over TCP only (createWebRtcTransport forceTcp). */
	forceTcp: boolean;
	/** 'relay': media only through the TURN servers the server hands out (as behind a strict NAT). */
	iceTransportPolicy: 'all' | 'relay';
	/** Echo cancellation, noise suppression and gain control on the microphone. */
	audioProcessing: boolean;
	/** Send leaveRoom when the page is closed normally (pagehide). */
	leaveOnUnload: boolean;
	/**
	 * The browser's DTLS role: 'auto' lets mediasoup-client pick (the browser
	 * is the DTLS client); 'server' makes the server the DTLS client.
	 */
	dtlsRole: 'auto' | 'client' | 'server';
}

/** How often a heartbeat is sent; the server drops peers silent for PEER_TIMEOUT (60 s by default). */
const HEARTBEAT_MS = 20_000;
const MAX_EVENTS = 2000;
const CONSUME_ATTEMPTS = 3;

/** protoo-client's retry policy for (re)connecting: quick first, about a minute in all. */
const RETRY = { retries: 40, factor: 1.5, minTimeout: 250, maxTimeout: 2000, randomize: false };

interface TransportEntry {
	transport: ms.Transport;
	direction: 'send' | 'recv';
	iceRestarts: number;
	serverIceUfrag: string;
	restarting: boolean;
}

export interface ConsumerEntry {
	consumer: ms.Consumer;
	peerId: string;
	source: Source;
	producerPaused: boolean;
}

export interface ProducerEntry {
	producer: ms.Producer;
	source: Source;
	capture?: string;
}

interface RemotePeer {
	peerId: string;
	displayName: string;
	producers: Map<string, ProducerInfo>;
}

function sourceOf(metadata: Record<string, unknown> | undefined, kind: 'audio' | 'video'): Source {
	const source = metadata?.source;

	return typeof source === 'string' ? source : kind === 'audio' ? 'mic' : 'camera';
}

function nameOf(metadata: Record<string, unknown> | undefined, peerId: string): string {
	const name = metadata?.displayName;

	return typeof name === 'string' && name ? name : peerId.slice(0, 6);
}

interface Deferred<T> {
	promise: Promise<T>;
	resolve: (value: T) => void;
	reject: (reason: unknown) => void;
}

function deferred<T>(): Deferred<T> {
	let resolve!: (value: T) => void;
	let reject!: (reason: unknown) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});

	return { promise, resolve, reject };
}

function errorCode(error: unknown): number | undefined {
	const code = (error as { code?: unknown } | undefined)?.code;

	return typeof code === 'number' ? code : undefined;
}

function message(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** A moving test pattern, for a screen share where getDisplayMedia is not available. */
function canvasTrack(width = 1280, height = 720, fps = 15): MediaStreamTrack {
	const canvas = document.createElement('canvas');

	canvas.width = width;
	canvas.height = height;

	const ctx = canvas.getContext('2d');

	if (!ctx) throw new Error('no 2d canvas context');

	const started = performance.now();
	const draw = (): void => {
		const t = (performance.now() - started) / 1000;

		ctx.fillStyle = '#20262e';
		ctx.fillRect(0, 0, width, height);
		ctx.fillStyle = '#e8eef4';
		ctx.font = '48px sans-serif';
		ctx.fillText(`vcall canvas screen share  ${t.toFixed(1)} s`, 60, 120);
		ctx.fillStyle = '#3d9be9';
		ctx.fillRect(60 + ((t * 200) % (width - 220)), 300, 160, 160);
	};

	draw();

	const stream = canvas.captureStream(fps);
	const track = stream.getVideoTracks()[0];

	if (!track) throw new Error('canvas.captureStream gave no track');

	const timer = setInterval(draw, 1000 / fps);

	track.addEventListener('ended', () => clearInterval(timer));
	// track.stop() does not fire 'ended': poll for it too.
	const watch = setInterval(() => {
		if (track.readyState === 'ended') {
			clearInterval(timer);
			clearInterval(watch);
		}
	}, 1000);

	return track;
}

export class CallClient extends EventTarget {
	readonly options: CallOptions;
	readonly #device = new Device();
	#peer: Peer | undefined;
	#phase: Phase = 'idle';
	#connection: ClientState['connection'] = 'connecting';
	#roomId: string | undefined;
	#peerId: string | undefined;
	#reconnectToken: string | undefined;
	#everJoined = false;
	#deviceLoaded = false;
	readonly #transports = new Map<'send' | 'recv', TransportEntry>();
	readonly #producers = new Map<string, ProducerEntry>();
	readonly #consumers = new Map<string, ConsumerEntry>();
	readonly #closedConsumers: ClosedConsumerState[] = [];
	readonly #peers = new Map<string, RemotePeer>();
	readonly #events: ClientEvent[] = [];
	readonly #errors: string[] = [];
	#disconnects = 0;
	#rejoins = 0;
	#heartbeat: ReturnType<typeof setInterval> | undefined;
	/** Joining, rejoining, screen share and ICE restarts run one at a time, in order. */
	#queue: Promise<unknown> = Promise.resolve();
	/**
	 * Resolved while the receive transport exists and signaling is up:
	 * consumption waits for it, then runs concurrently (mediasoup-client
	 * batches concurrent consume() calls into one SDP renegotiation).
	 */
	#mediaReady = deferred<void>();
	/** Producers being consumed right now (not yet a consumer). */
	readonly #consuming = new Set<string>();
	/** Rejecters of the requests in flight, called when the WebSocket drops (protoo-client would wait ~20 s for a timeout). */
	readonly #inFlight = new Set<(error: Error) => void>();
	/** Camera and microphone tracks, kept across a fresh re-join. */
	readonly #localTracks = new Map<Source, MediaStreamTrack>();
	#screenTrack: MediaStreamTrack | undefined;

	constructor(options: CallOptions) {
		super();
		this.options = options;
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

	get consumers(): IterableIterator<ConsumerEntry> {
		return this.#consumers.values();
	}

	get producers(): IterableIterator<ProducerEntry> {
		return this.#producers.values();
	}

	localTrack(source: Source): MediaStreamTrack | undefined {
		return source === 'screen' ? this.#screenTrack : this.#localTracks.get(source);
	}

	transport(direction: 'send' | 'recv'): ms.Transport | undefined {
		return this.#transports.get(direction)?.transport;
	}

	remotePeerName(peerId: string): string {
		return this.#peers.get(peerId)?.displayName ?? peerId.slice(0, 6);
	}

	state(): ClientState {
		return {
			phase: this.#phase,
			connection: this.#connection,
			serverUrl: this.options.serverUrl,
			roomId: this.#roomId,
			peerId: this.#peerId,
			displayName: this.options.displayName,
			peers: [...this.#peers.values()].map((p) => ({
				peerId: p.peerId,
				displayName: p.displayName,
				producers: [...p.producers.values()].map((pr) => ({
					producerId: pr.producerId,
					kind: pr.kind,
					source: sourceOf(pr.metadata, pr.kind),
					paused: pr.paused
				}))
			})),
			producers: [...this.#producers.values()].map(({ producer, source, capture }) => {
				const settings = producer.track?.getSettings();

				return {
					producerId: producer.id,
					kind: producer.kind,
					source,
					trackState: producer.track?.readyState ?? 'none',
					...(capture ? { capture } : {}),
					...(settings && producer.kind === 'video'
						? { settings: { width: settings.width, height: settings.height, frameRate: settings.frameRate } }
						: {})
				};
			}),
			consumers: [...this.#consumers.values()].map((entry) => this.#consumerState(entry)),
			closedConsumers: [...this.#closedConsumers],
			transports: [...this.#transports.values()].map((t) => ({
				id: t.transport.id,
				direction: t.direction,
				connectionState: t.transport.connectionState,
				iceRestarts: t.iceRestarts,
				serverIceUfrag: t.serverIceUfrag
			})),
			events: [...this.#events],
			disconnects: this.#disconnects,
			rejoins: this.#rejoins,
			errors: [...this.#errors]
		};
	}

	// ---- Joining ----

	/** Connects and joins (or creates) the room; resolves once joined. */
	start(): Promise<void> {
		if (this.#peer) throw new Error('already started');

		const joined = this.whenJoined(60_000);

		this.#setPhase('connecting');

		const peer = new Peer(new WebSocketTransport(this.options.serverUrl, { retry: RETRY }));

		this.#peer = peer;
		peer.on('open', () => this.#onOpen());
		peer.on('disconnected', () => this.#onDisconnected());
		peer.on('failed', (attempt) => this.#log('connectFailed', { attempt }));
		peer.on('close', () => this.#onClosed());
		peer.on('notification', (n) => this.#onNotification(asNotification(n)));
		peer.on('request', (_request, _accept, reject) => reject(405, 'the client takes no requests'));

		if (this.options.leaveOnUnload) addEventListener('pagehide', () => this.#leaveOnUnload());

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
			if (this.#roomId && this.#peer?.connected) await this.#request('leaveRoom', { roomId: this.#joinedRoomId() });
		} catch (error) {
			this.#error('leaveRoom', error);
		}
		this.#teardown('left');
		this.#peer?.close();
	}

	#onOpen(): void {
		this.#connection = 'open';
		this.#log('open');
		if (!this.#everJoined) void this.#enqueue('join', () => this.#join(), true);
		else void this.#enqueue('rejoin', () => this.#rejoin(), true);
		this.#changed();
	}

	#onDisconnected(): void {
		this.#disconnects++;
		this.#connection = 'disconnected';
		for (const reject of this.#inFlight) reject(new Error('connection lost'));
		this.#inFlight.clear();
		this.#closeGate();
		this.#log('disconnected');
		this.#changed();
	}

	#onClosed(): void {
		this.#connection = 'closed';
		this.#log('closed');
		if (this.#phase !== 'left') this.#teardown(this.#phase === 'joined' || this.#phase === 'rejoining' ? 'closed' : 'failed');
		this.#changed();
	}

	async #join(): Promise<void> {
		this.#setPhase('joining');

		const metadata = { displayName: this.options.displayName };
		const response =
			this.options.room === 'create' || !this.options.room
				? await this.#request('createRoom', { metadata })
				: await this.#request('joinRoom', { roomId: this.options.room, metadata });

		this.#roomId = response.roomId;
		this.#peerId = response.peerId;
		this.#reconnectToken = response.reconnectToken;
		this.#everJoined = true;

		if (!this.#deviceLoaded) {
			const { rtpCapabilities } = await this.#request('getRouterRtpCapabilities', {
				roomId: response.roomId
			});

			await this.#device.load({ routerRtpCapabilities: rtpCapabilities });
			this.#deviceLoaded = true;
		}

		await this.#createTransport('recv');
		await this.#createTransport('send');
		this.#startHeartbeat();

		for (const info of response.peers) this.#addPeer(info.peerId, info.metadata);
		for (const info of response.peers) for (const producer of info.producers) this.#addRemoteProducer(producer);

		// Send first, then receive: the consumers wait for #mediaReady (also when the camera is refused).
		try {
			await this.#produceLocalMedia();
		} finally {
			this.#mediaReady.resolve();
		}
		this.#setPhase('joined');
	}

	/** After a WebSocket drop: take the peer back, restart ICE, resync consumers. */
	async #rejoin(): Promise<void> {
		const roomId = this.#roomId;
		const peerId = this.#peerId;
		const token = this.#reconnectToken;

		if (!roomId || !peerId || !token) return this.#join();

		const started = Date.now();

		this.#setPhase('rejoining');

		let response: RejoinResponse;

		try {
			response = await this.#request('rejoinRoom', { roomId, peerId, reconnectToken: token });
		} catch (error) {
			const code = errorCode(error);

			if (code === ErrorCode.UNAUTHORIZED) {
				// The grace period is over: our peer is gone, the room is still there. Join it afresh.
				this.#log('rejoinRefused', { code, message: message(error) });
				this.#resetMedia('rejoin refused');
				this.options.room = roomId;

				return this.#join();
			}
			if (code === ErrorCode.NOT_FOUND) {
				// The room is gone.
				this.#log('rejoinRefused', { code, message: message(error) });
				this.#errors.push(`rejoinRoom: ${message(error)}`);
				this.#teardown('closed');
				this.#peer?.close();

				return;
			}
			throw error;
		}

		this.#reconnectToken = response.reconnectToken;
		this.#rejoins++;
		this.#log('rejoined', { ms: Date.now() - started });

		// Transports: restart ICE on those the server still has.
		const serverTransports = new Set(response.transports.map((t) => t.transportId));

		// Over a copy: a lost transport is replaced in the map while we go.
		for (const entry of [...this.#transports.values()]) {
			if (serverTransports.has(entry.transport.id)) await this.#restartIce(entry);
			else {
				this.#log('transportLost', { direction: entry.direction });
				entry.transport.close();
				this.#transports.delete(entry.direction);
				await this.#createTransport(entry.direction);
			}
		}

		// Own producers the server no longer has (their transport was replaced) are produced again.
		const serverProducers = new Set(response.producers.map((p) => p.producerId));

		for (const [id, entry] of [...this.#producers]) {
			if (serverProducers.has(id)) continue;
			this.#log('producerLost', { source: entry.source });
			entry.producer.close();
			this.#producers.delete(id);
			if (entry.producer.track && entry.producer.track.readyState === 'live') await this.#produce(entry.producer.track, entry.source, entry.capture);
		}

		// Peers: whoever left during the gap is gone, whoever came is added.
		const serverPeers = new Map(response.peers.map((p) => [p.peerId, p]));

		for (const peerId of [...this.#peers.keys()]) if (!serverPeers.has(peerId)) this.#removePeer(peerId, 'gone after rejoin');
		for (const info of response.peers) this.#syncPeer(info);

		// Consumers: close those the server closed while we were away.
		const serverConsumers = new Set(response.consumers.map((c) => c.consumerId));

		for (const [id, entry] of this.#consumers) {
			if (!serverConsumers.has(id)) this.#closeConsumer(entry, 'gone after rejoin');
		}
		// A resumeConsumer lost in the drop would leave its consumer paused: resume them all (idempotent).
		await Promise.all(
			[...this.#consumers.values()].map(({ consumer }) =>
				this.#request('resumeConsumer', { roomId, consumerId: consumer.id }).catch((error: unknown) => this.#error('resumeConsumer after rejoin', error))
			)
		);
		// Consume producers we have no consumer for (new ones, or lost in the gap).
		for (const info of response.peers) for (const producer of info.producers) this.#addRemoteProducer(producer);
		this.#mediaReady.resolve();

		this.#log('resynced', { ms: Date.now() - started, consumers: this.#consumers.size, peers: this.#peers.size });
		this.#setPhase('joined');
	}

	// ---- Transports ----

	async #createTransport(direction: 'send' | 'recv'): Promise<TransportEntry> {
		const roomId = this.#joinedRoomId();
		const info = await this.#request('createWebRtcTransport', { roomId, direction, forceTcp: this.options.forceTcp });
		const options: ms.TransportOptions = {
			id: info.transportId,
			iceParameters: info.iceParameters,
			iceCandidates: info.iceCandidates,
			// The role given for the server's side decides the browser's (the opposite one).
			dtlsParameters:
				this.options.dtlsRole === 'auto'
					? info.dtlsParameters
					: { ...info.dtlsParameters, role: this.options.dtlsRole === 'server' ? 'client' : 'server' },
			...(info.sctpParameters ? { sctpParameters: info.sctpParameters } : {}),
			// Time-limited TURN credentials, when the server has TURN configured.
			iceServers: info.iceServers,
			iceTransportPolicy: this.options.iceTransportPolicy
		};
		const transport = direction === 'send' ? this.#device.createSendTransport(options) : this.#device.createRecvTransport(options);
		const entry: TransportEntry = { transport, direction, iceRestarts: 0, serverIceUfrag: info.iceParameters.usernameFragment, restarting: false };

		transport.on('connect', ({ dtlsParameters }, callback, errback) => {
			this.#request('connectWebRtcTransport', { roomId, transportId: transport.id, dtlsParameters }).then(
				() => callback(),
				(error: unknown) => errback(error instanceof Error ? error : new Error(String(error)))
			);
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			this.#request('produce', {
				roomId,
				transportId: transport.id,
				kind,
				rtpParameters,
				metadata: (appData as { metadata?: Record<string, unknown> }).metadata ?? {}
			}).then(
				({ producerId }) => callback({ id: producerId }),
				(error: unknown) => errback(error instanceof Error ? error : new Error(String(error)))
			);
		});
		transport.on('connectionstatechange', (state) => {
			this.#log('transportState', { direction, state });
			// ICE failed for good (e.g. the network changed): ask the server for new credentials.
			if (state === 'failed' && this.#peer?.connected) void this.#enqueue('restartIce', () => this.#restartIce(entry));
			this.#changed();
		});

		this.#transports.set(direction, entry);

		return entry;
	}

	async #restartIce(entry: TransportEntry): Promise<void> {
		if (entry.restarting || entry.transport.closed) return;
		entry.restarting = true;
		try {
			const { iceParameters } = await this.#request('restartIce', {
				roomId: this.#joinedRoomId(),
				transportId: entry.transport.id
			});

			await entry.transport.restartIce({ iceParameters });
			entry.iceRestarts++;
			entry.serverIceUfrag = iceParameters.usernameFragment;
			this.#log('iceRestarted', { direction: entry.direction, usernameFragment: iceParameters.usernameFragment });
		} catch (error) {
			this.#error(`restartIce ${entry.direction}`, error);
		} finally {
			entry.restarting = false;
			this.#changed();
		}
	}

	// ---- Producing ----

	async #produceLocalMedia(): Promise<void> {
		const { audio, video } = this.options;

		if (!audio && !video) return;
		if (!this.#localTracks.size) {
			const stream = await navigator.mediaDevices.getUserMedia({
				audio: audio
					? { echoCancellation: this.options.audioProcessing, noiseSuppression: this.options.audioProcessing, autoGainControl: this.options.audioProcessing }
					: false,
				video: video ? { width: this.options.width, height: this.options.height, frameRate: this.options.frameRate } : false
			});
			const mic = stream.getAudioTracks()[0];
			const camera = stream.getVideoTracks()[0];

			if (mic) this.#localTracks.set('mic', mic);
			if (camera) this.#localTracks.set('camera', camera);
			this.dispatchEvent(new Event('localmedia'));
		}

		for (const [source, track] of this.#localTracks) await this.#produce(track, source);
	}

	async #produce(track: MediaStreamTrack, source: Source, capture?: string): Promise<ms.Producer> {
		const transport = this.transport('send');

		if (!transport) throw new Error('no send transport');

		const isVideo = track.kind === 'video';
		const maxKbps = source === 'camera' ? this.options.maxVideoKbps : 0;
		const producer = await transport.produce({
			track,
			stopTracks: false,
			...(isVideo && maxKbps > 0 ? { encodings: [{ maxBitrate: maxKbps * 1000 }] } : {}),
			...(isVideo ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
			appData: { metadata: { source, ...(capture ? { capture } : {}) } }
		});
		const entry: ProducerEntry = { producer, source, ...(capture ? { capture } : {}) };

		this.#producers.set(producer.id, entry);
		producer.on('transportclose', () => this.#producers.delete(producer.id));
		producer.on('trackended', () => {
			this.#log('trackEnded', { source });
			if (source === 'screen') void this.stopScreenShare();
		});
		this.#log('produced', { producerId: producer.id, source });
		this.#changed();

		return producer;
	}

	/**
	 * Shares the screen as a second video producer ({source: 'screen'}).
	 * getDisplayMedia is called first thing, inside the caller's user gesture.
	 */
	async startScreenShare(method: 'auto' | 'display' | 'canvas' = 'auto'): Promise<ScreenShareResult> {
		if (this.#screenTrack) throw new Error('already sharing the screen');

		let track: MediaStreamTrack | undefined;
		let capture: ScreenShareResult['capture'] = 'getDisplayMedia';
		let fallbackReason: string | undefined;

		if (method !== 'canvas') {
			try {
				const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });

				track = stream.getVideoTracks()[0];
			} catch (error) {
				if (method === 'display') throw error;
				fallbackReason = message(error);
			}
		}
		if (!track) {
			track = canvasTrack();
			capture = 'canvas';
			fallbackReason ??= method === 'canvas' ? 'canvas requested' : 'getDisplayMedia gave no track';
		}

		// Sharpness over smoothness, as for any screen content.
		track.contentHint = 'detail';
		this.#screenTrack = track;

		const screenTrack = track;
		const producer = await this.#enqueue('screenShare', () => this.#produce(screenTrack, 'screen', capture));

		return { producerId: producer.id, capture, ...(fallbackReason ? { fallbackReason } : {}) };
	}

	async stopScreenShare(): Promise<void> {
		const track = this.#screenTrack;

		if (!track) return;
		this.#screenTrack = undefined;

		await this.#enqueue('stopScreenShare', async () => {
			for (const [id, entry] of this.#producers) {
				if (entry.source !== 'screen') continue;
				this.#producers.delete(id);
				entry.producer.close();
				try {
					await this.#request('closeProducer', { roomId: this.#joinedRoomId(), producerId: id });
				} catch (error) {
					this.#error('closeProducer', error);
				}
			}
		});
		track.stop();
		this.#changed();
	}

	// ---- Consuming ----

	#addRemoteProducer(info: ProducerInfo): void {
		const peer = this.#peers.get(info.peerId);

		if (peer) peer.producers.set(info.producerId, info);
		this.#consume(info).catch((error: unknown) => this.#error(`consume ${info.producerId}`, error));
	}

	/** Waits until media can be set up (transports exist, signaling is up). */
	async #ready(): Promise<void> {
		for (;;) {
			const gate = this.#mediaReady;

			await gate.promise;
			if (gate === this.#mediaReady) return;
		}
	}

	/** Makes #ready() wait again; whoever waited on the old gate waits on the new one. */
	#closeGate(): void {
		const old = this.#mediaReady;

		this.#mediaReady = deferred<void>();
		old.resolve();
	}

	#wanted(producerId: string, peerId: string): boolean {
		return this.#peers.get(peerId)?.producers.has(producerId) ?? false;
	}

	async #consume(info: ProducerInfo): Promise<void> {
		if (info.peerId === this.#peerId || this.#consuming.has(info.producerId)) return;
		this.#consuming.add(info.producerId);
		try {
			for (let attempt = 1; ; attempt++) {
				await this.#ready();
				if (!this.#wanted(info.producerId, info.peerId)) return; // closed meanwhile
				for (const entry of this.#consumers.values()) if (entry.consumer.producerId === info.producerId) return;
				try {
					await this.#consumeNow(info);

					return;
				} catch (error) {
					// A lost connection is dealt with by the resync after rejoinRoom; a slow
					// server (request timeout) or a failed renegotiation is worth another try.
					if (attempt >= CONSUME_ATTEMPTS || !this.#peer?.connected) throw error;
					this.#error(`consume ${info.producerId} (attempt ${attempt}, retrying)`, error);
					await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
				}
			}
		} finally {
			this.#consuming.delete(info.producerId);
		}
	}

	async #consumeNow(info: ProducerInfo): Promise<void> {
		const transport = this.transport('recv');

		if (!transport) throw new Error('no recv transport');

		let data: Responses['consume'];

		try {
			data = await this.#request('consume', {
				roomId: this.#joinedRoomId(),
				producerId: info.producerId,
				rtpCapabilities: this.#device.rtpCapabilities
			});
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
			void this.#request('closeConsumer', { roomId: this.#joinedRoomId(), consumerId: data.consumerId }).catch(() => undefined);
			throw error;
		}
		const entry: ConsumerEntry = { consumer, peerId: data.peerId, source, producerPaused: data.producerPaused };

		this.#consumers.set(consumer.id, entry);
		consumer.on('transportclose', () => this.#closeConsumer(entry, 'transport closed'));
		this.#log('consumed', { consumerId: consumer.id, producerId: data.producerId, peerId: data.peerId, kind: data.kind, source });
		if (!this.#wanted(data.producerId, data.peerId)) {
			// producerClosed or peerLeft arrived while we were creating it.
			this.#closeConsumer(entry, 'producerClosed');
			return;
		}
		this.#changed();

		// The server creates consumers paused until we are ready for them.
		for (let attempt = 1; ; attempt++) {
			try {
				await this.#request('resumeConsumer', { roomId: this.#joinedRoomId(), consumerId: consumer.id });

				return;
			} catch (error) {
				// Not found: closed meanwhile. Not connected: rejoinRoom resyncs.
				if (consumer.closed || errorCode(error) === ErrorCode.NOT_FOUND || !this.#peer?.connected || attempt >= CONSUME_ATTEMPTS) {
					this.#error(`resumeConsumer ${consumer.id}`, error);

					return;
				}
			}
		}
	}

	#closeConsumer(entry: ConsumerEntry, reason: string): void {
		const { consumer } = entry;

		if (!this.#consumers.delete(consumer.id)) return;
		consumer.close(); // stops its track
		this.#closedConsumers.push({ ...this.#consumerState(entry), closedAt: Date.now(), reason });
		this.#log('consumerClosed', { consumerId: consumer.id, producerId: consumer.producerId, reason, trackState: consumer.track.readyState });
		this.dispatchEvent(new CustomEvent('consumerclosed', { detail: consumer.id }));
		this.#changed();
	}

	#consumerState(entry: ConsumerEntry): ClientState['consumers'][number] {
		const { consumer } = entry;

		return {
			consumerId: consumer.id,
			producerId: consumer.producerId,
			peerId: entry.peerId,
			kind: consumer.kind,
			source: entry.source,
			paused: consumer.paused,
			producerPaused: entry.producerPaused,
			trackState: consumer.track.readyState
		};
	}

	// ---- Peers and notifications ----

	#addPeer(peerId: string, metadata: Record<string, unknown>): RemotePeer {
		let peer = this.#peers.get(peerId);

		if (!peer) {
			peer = { peerId, displayName: nameOf(metadata, peerId), producers: new Map() };
			this.#peers.set(peerId, peer);
		}

		return peer;
	}

	#syncPeer(info: PeerInfo): void {
		const peer = this.#addPeer(info.peerId, info.metadata);
		const live = new Set(info.producers.map((p) => p.producerId));

		for (const producerId of [...peer.producers.keys()]) {
			if (!live.has(producerId)) this.#producerGone(producerId, 'gone after rejoin');
		}
		for (const producer of info.producers) peer.producers.set(producer.producerId, producer);
	}

	#removePeer(peerId: string, reason: string): void {
		const peer = this.#peers.get(peerId);

		if (!peer) return;
		this.#peers.delete(peerId);
		for (const entry of [...this.#consumers.values()]) if (entry.peerId === peerId) this.#closeConsumer(entry, reason);
	}

	#producerGone(producerId: string, reason: string): void {
		for (const peer of this.#peers.values()) peer.producers.delete(producerId);
		for (const entry of [...this.#consumers.values()]) if (entry.consumer.producerId === producerId) this.#closeConsumer(entry, reason);
	}

	#onNotification(notification: Notification): void {
		this.#log(notification.method, notification.data);

		switch (notification.method) {
			case 'peerJoined': {
				const { peerId, metadata } = notification.data;

				this.#addPeer(peerId, metadata);
				break;
			}
			case 'newProducer': {
				const info = notification.data;

				this.#addPeer(info.peerId, {});
				this.#addRemoteProducer({ ...info, paused: false });
				break;
			}
			case 'producerClosed': {
				this.#producerGone(notification.data.producerId, 'producerClosed');
				break;
			}
			case 'producerPaused':
			case 'producerResumed': {
				const { producerId, peerId } = notification.data;
				const paused = notification.method === 'producerPaused';
				const info = this.#peers.get(peerId)?.producers.get(producerId);

				if (info) info.paused = paused;
				for (const entry of this.#consumers.values()) if (entry.consumer.producerId === producerId) entry.producerPaused = paused;
				break;
			}
			case 'peerLeft': {
				this.#removePeer(notification.data.peerId, 'peerLeft');
				break;
			}
			case 'roomClosed': {
				this.#teardown('closed');
				this.#peer?.close();
				break;
			}
			case 'error': {
				const { code, message: text } = notification.data;

				this.#errors.push(`server error ${code}: ${text}`);
				break;
			}
			default:
				break;
		}
		this.#changed();
	}

	// ---- Plumbing ----

	/** The room of a request that only makes sense once joined. */
	#joinedRoomId(): string {
		if (!this.#roomId) throw new Error('not in a room');

		return this.#roomId;
	}

	async #request<M extends RequestMethod>(method: M, data: RequestParams<M>): Promise<Responses[M]> {
		const peer = this.#peer;

		// protoo-client would send into a dead socket and wait ~20 s for the timeout.
		if (!peer?.connected) throw Object.assign(new Error(`${method}: not connected`), { code: 0 });

		let lost!: (error: Error) => void;
		const dropped = new Promise<never>((_, reject) => (lost = reject));

		this.#inFlight.add(lost);
		try {
			return await Promise.race([request(peer, method, data), dropped]);
		} finally {
			this.#inFlight.delete(lost);
		}
	}

	/** Runs `task` after the queued ones; a failure of a `fatal` task (join, rejoin) fails the call. */
	#enqueue<T>(name: string, task: () => Promise<T>, fatal = false): Promise<T> {
		const run = this.#queue.then(task);

		this.#queue = run.catch((error: unknown) => this.#error(name, error, fatal));

		return run;
	}

	#startHeartbeat(): void {
		if (this.#heartbeat) return;
		this.#heartbeat = setInterval(() => {
			if (this.#peer?.connected) this.#request('heartbeat', {}).catch((error: unknown) => this.#error('heartbeat', error));
		}, HEARTBEAT_MS);
	}

	#leaveOnUnload(): void {
		if (!this.#roomId || !this.#peer?.connected || this.#phase === 'left') return;
		// Fire and forget: the frame is written before the page goes away.
		request(this.#peer, 'leaveRoom', { roomId: this.#roomId }).catch(() => undefined);
	}

	/** Closes every transport, producer and consumer (the local tracks stay). */
	#resetMedia(reason: string): void {
		this.#closeGate();
		for (const entry of [...this.#consumers.values()]) this.#closeConsumer(entry, reason);
		for (const entry of this.#producers.values()) entry.producer.close();
		this.#producers.clear();
		for (const entry of this.#transports.values()) entry.transport.close();
		this.#transports.clear();
		this.#peers.clear();
		this.#screenTrack?.stop();
		this.#screenTrack = undefined;
	}

	#teardown(phase: Phase): void {
		clearInterval(this.#heartbeat);
		this.#heartbeat = undefined;
		this.#resetMedia(phase);
		for (const track of this.#localTracks.values()) track.stop();
		this.#localTracks.clear();
		this.#setPhase(phase);
	}

	#setPhase(phase: Phase): void {
		if (this.#phase === phase) return;
		this.#phase = phase;
		this.#log('phase', { phase });
		this.#changed();
	}

	#log(type: string, data?: unknown): void {
		this.#events.push({ at: Date.now(), type, ...(data !== undefined ? { data } : {}) });
		if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
	}

	#error(where: string, error: unknown, fatal = false): void {
		const text = `${where}: ${message(error)}`;

		this.#errors.push(text);
		this.#log('error', { where, message: message(error) });
		console.warn('[vcall]', text);
		// A join that fails is over; a rejoin that fails because the socket dropped again is retried on the next 'open'.
		if (fatal && this.#peer?.connected) this.#setPhase('failed');
		this.#changed();
	}

	#changed(): void {
		this.dispatchEvent(new Event('change'));
	}

	/** Drops the WebSocket as a network failure would; reconnection attempts fail for downMs. */
	dropWebSocket(downMs = 0): void {
		wsControl.blockedUntil = Date.now() + downMs;
		this.#log('dropWebSocket', { downMs });
		wsControl.current?.close();
	}
}
