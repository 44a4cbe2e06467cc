// What the browser client exposes as `window.vcall`. Pure types (no DOM):
// the E2E tests import them too, to read what the page returns. The
// server's requests, responses and notifications are in lib/protocol.

/** Where a stream comes from: metadata.source of its producer. */
export type Source = 'mic' | 'camera' | 'screen' | string;

// ---- Client state, as returned by window.vcall.state() ----

export type Phase = 'idle' | 'connecting' | 'joining' | 'joined' | 'rejoining' | 'left' | 'closed' | 'failed';

export interface ClientEvent {
	/** Date.now() when it happened. */
	at: number;
	/** A server notification method ('peerJoined', 'peerLeft', ...) or a client event ('disconnected', 'open', 'rejoined', 'iceRestarted', ...). */
	type: string;
	data?: unknown;
}

export interface RemotePeerState {
	peerId: string;
	displayName: string;
	producers: { producerId: string; kind: 'audio' | 'video'; source: Source; paused: boolean }[];
}

export interface LocalProducerState {
	producerId: string;
	kind: 'audio' | 'video';
	source: Source;
	/** Paused by us (mute, camera off). */
	paused: boolean;
	trackState: TrackState | 'none';
	/** The codec's mimeType ('video/VP8', 'video/VP9', ...). */
	codec: string;
	/** Each encoding's scalabilityMode: three for simulcast, one for a single stream or SVC. */
	encodings: string[];
	/** The capture device the track comes from (getSettings().deviceId), where the browser says. */
	deviceId?: string;
	/** For the screen share: 'getDisplayMedia' or 'canvas'. */
	capture?: string;
	settings?: { width?: number; height?: number; frameRate?: number };
}

export interface ConsumerState {
	consumerId: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	paused: boolean;
	producerPaused: boolean;
	trackState: TrackState;
	/** What the server said it forwards: 'simple', 'simulcast' or 'svc'. */
	type: string;
	/** The codec's mimeType ('video/VP8', 'video/VP9', 'audio/opus', ...). */
	codec: string;
	/** The layers the server forwards now (consumerLayersChanged; null: none); absent until the server tells. */
	layers?: { spatialLayer: number; temporalLayer: number } | null;
	/** The latest consumerScore: this consumer's and its producer's scores (0-10). */
	score?: { score: number; producerScore: number };
}

export interface ClosedConsumerState extends ConsumerState {
	closedAt: number;
	reason: string;
}

export interface TransportState {
	id: string;
	direction: 'send' | 'recv';
	connectionState: string;
	iceRestarts: number;
	/** usernameFragment of the server's latest ICE parameters. */
	serverIceUfrag: string;
}

export type TrackState = 'live' | 'ended';

export interface ChatMessage {
	/** The sender's peer id (ours for what we sent). */
	peerId: string;
	/** The sender's display name as the room knows it. */
	name: string;
	text: string;
	/** Date.now() when it was sent (ours) or received. */
	at: number;
	own: boolean;
}

export interface ClientState {
	phase: Phase;
	/** The protoo WebSocket: open, or down and retrying, or closed for good. */
	connection: 'connecting' | 'open' | 'disconnected' | 'closed';
	serverUrl: string;
	roomId: string | undefined;
	peerId: string | undefined;
	displayName: string;
	/** Whether we send our microphone and camera (captured, not muted or turned off). */
	sending: { mic: boolean; camera: boolean };
	/** Why the call ended (roomClosed's reason), once it has. */
	endReason?: string;
	peers: RemotePeerState[];
	producers: LocalProducerState[];
	consumers: ConsumerState[];
	closedConsumers: ClosedConsumerState[];
	transports: TransportState[];
	events: ClientEvent[];
	/** WebSocket drops seen (protoo 'disconnected'). */
	disconnects: number;
	/** Successful rejoinRoom calls. */
	rejoins: number;
	errors: string[];
	/** Chat messages, oldest first. */
	chat: ChatMessage[];
	/** The room's active speaker (activeSpeaker notification), null in a silence. */
	activeSpeaker: string | null;
}

// ---- getStats() figures, as returned by window.vcall.stats() ----
// Counters are cumulative (as in RTCStatsReport); rates are computed by the
// reader from two snapshots. `timestamp` is the stats timestamp (ms).

export interface OutboundStats {
	producerId: string;
	kind: 'audio' | 'video';
	source: Source;
	timestamp: number;
	bytesSent: number;
	packetsSent: number;
	framesEncoded?: number;
	framesSent?: number;
	frameWidth?: number;
	frameHeight?: number;
	framesPerSecond?: number;
	qualityLimitationReason?: string;
	encoderImplementation?: string;
	/** From the SFU's receiver reports (remote-inbound-rtp). */
	remotePacketsLost?: number;
	remoteFractionLost?: number;
	roundTripTime?: number;
}

export interface InboundStats {
	consumerId: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	timestamp: number;
	bytesReceived: number;
	packetsReceived: number;
	packetsLost: number;
	jitter?: number;
	framesReceived?: number;
	framesDecoded?: number;
	framesDropped?: number;
	frameWidth?: number;
	frameHeight?: number;
	framesPerSecond?: number;
	freezeCount?: number;
	totalFreezesDuration?: number;
	decoderImplementation?: string;
	totalSamplesReceived?: number;
	concealedSamples?: number;
	audioLevel?: number;
}

export interface TransportStats {
	transportId: string;
	direction: 'send' | 'recv';
	timestamp: number;
	bytesSent: number;
	bytesReceived: number;
	availableOutgoingBitrate?: number;
	currentRoundTripTime?: number;
	/** The selected candidate pair. */
	localCandidate?: { protocol: string; address: string; port: number; candidateType: string; usernameFragment?: string };
	remoteCandidate?: { protocol: string; address: string; port: number; candidateType: string; usernameFragment?: string };
	iceLocalUsernameFragment?: string;
	dtlsState?: string;
	iceState?: string;
}

export interface StatsSnapshot {
	/** Date.now() when taken. */
	at: number;
	outbound: OutboundStats[];
	inbound: InboundStats[];
	transports: TransportStats[];
}

export interface ScreenShareResult {
	producerId: string;
	/** 'getDisplayMedia' (the browser's screen capture) or 'canvas' (a canvas captureStream track). */
	capture: 'getDisplayMedia' | 'canvas';
	/** Why getDisplayMedia was not used, if it was not. */
	fallbackReason?: string;
}

/** window.vcall */
export interface VcallApi {
	state(): ClientState;
	stats(): Promise<StatsSnapshot>;
	/** 'auto' tries getDisplayMedia and falls back to a canvas track. */
	startScreenShare(method?: 'auto' | 'display' | 'canvas'): Promise<ScreenShareResult>;
	stopScreenShare(): Promise<void>;
	/** Closes the protoo WebSocket as a network drop would; reconnection attempts fail for downMs. */
	dropWebSocket(downMs?: number): void;
	leave(): Promise<void>;
	/** Sends a chat message over the chat data channel (throws while it is not open). */
	sendChat(text: string): void;
	/** Asks the server for at most these layers of a consumer; it may send less to stay within the downlink budget. */
	setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void>;
	/** Mute/unmute ('mic') and camera off/on ('camera'): pauses or resumes the producer. */
	setSourceEnabled(source: 'mic' | 'camera', enabled: boolean): Promise<void>;
	/** Moves the microphone or camera to another device (the same producer gets the new track). */
	switchDevice(source: 'mic' | 'camera', deviceId: string): Promise<void>;
	/** Resolves once phase is 'joined' (rejects on 'failed' or after timeoutMs). */
	whenJoined(timeoutMs?: number): Promise<void>;
}
