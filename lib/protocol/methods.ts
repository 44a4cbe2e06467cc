// The public API: every request method with its parameter schema and
// response type, and every notification with its payload. Parameters are
// validated here, before anything reaches a room. Media parameters are
// bounded in size and shape (unknown fields are dropped); mediasoup then
// checks their meaning (codecs it supports, matching payload types). Media
// shapes in responses are mediasoup-client's types: what a client hands its Device.

import type { types as mc } from 'mediasoup-client';
import { z } from 'zod';
import { ROOM_ID } from '../auth/grants.js';
import { ErrorCode, RequestError } from './errors.js';
import { MAX_CONSUME_MANY } from './limits.js';

const MAX_METADATA_BYTES = 4096;

/** Room and peer ids: random base64url strings made by the server, or room names of the same alphabet from a join token. */
const id = z.string().regex(ROOM_ID, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
/** mediasoup object ids are UUIDs. */
const objectId = z.string().min(1).max(64);

/** Free-form JSON object a client attaches to a peer or producer. */
const metadata = z
	.record(z.string(), z.unknown())
	.refine((value) => JSON.stringify(value).length <= MAX_METADATA_BYTES, `metadata is larger than ${MAX_METADATA_BYTES} bytes`)
	.default({});

const dtlsParameters = z.object({
	role: z.enum(['auto', 'client', 'server']).optional(),
	fingerprints: z
		.array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().min(1).max(256) }))
		.min(1)
		.max(8)
});

const shortString = (max: number) => z.string().min(1).max(max);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Codec and header-extension parameters: a few scalar fmtp-style values. */
const mediaParameters = z
	.record(shortString(64), z.union([z.string().max(256), z.number().finite(), z.boolean()]))
	.refine((value) => Object.keys(value).length <= 32, 'at most 32 parameters');

const rtcpFeedback = z.array(z.object({ type: shortString(32), parameter: z.string().max(32).optional() })).max(16);

const codecFields = {
	mimeType: shortString(64),
	clockRate: int(1, 1_000_000),
	channels: int(1, 8).optional(),
	parameters: mediaParameters.optional(),
	rtcpFeedback: rtcpFeedback.optional()
};

const ssrc = int(0, 0xffffffff);

const rtpParameters = z.object({
	mid: z.string().max(32).optional(),
	msid: z.string().max(128).optional(),
	codecs: z.array(z.object({ ...codecFields, payloadType: int(0, 127) })).min(1).max(32),
	headerExtensions: z
		.array(z.object({ uri: shortString(256), id: int(1, 255), encrypt: z.boolean().optional(), parameters: mediaParameters.optional() }))
		.max(32)
		.optional(),
	encodings: z
		.array(
			z.object({
				ssrc: ssrc.optional(),
				rid: z.string().max(32).optional(),
				codecPayloadType: int(0, 127).optional(),
				rtx: z.object({ ssrc }).optional(),
				dtx: z.boolean().optional(),
				scalabilityMode: z.string().max(16).optional(),
				scaleResolutionDownBy: z.number().min(1).max(64).optional(),
				maxBitrate: int(0, 1_000_000_000).optional(),
				maxFramerate: z.number().min(0).max(240).optional()
			})
		)
		.max(8)
		.optional(),
	rtcp: z.object({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional() }).optional()
});

const rtpCapabilities = z.object({
	codecs: z
		.array(z.object({ ...codecFields, kind: z.enum(['audio', 'video']), preferredPayloadType: int(0, 127).optional() }))
		.max(64)
		.optional(),
	headerExtensions: z
		.array(
			z.object({
				kind: z.enum(['audio', 'video']).optional(),
				uri: shortString(256),
				preferredId: int(1, 255),
				preferredEncrypt: z.boolean().optional(),
				direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional()
			})
		)
		.max(64)
		.optional()
});

/** An SCTP stream of a data channel (mediasoup checks the rest). */
const sctpStreamParameters = z.object({
	streamId: z.number().int().min(0).max(65534),
	ordered: z.boolean().optional(),
	maxPacketLifeTime: z.number().int().min(0).max(65535).optional(),
	maxRetransmits: z.number().int().min(0).max(65535).optional()
});

/** A data channel's label or subprotocol. */
const channelName = z.string().max(256).default('');

const inRoom = { roomId: id };

/** Highest spatial or temporal layer index a request may name (VP9 SVC has at most 3 of each; mediasoup clamps to what exists). */
const MAX_LAYER = 15;

/** A join token (JWT); also accepted as ?token= on the WebSocket URL. */
const token = z.string().min(1).max(4096).optional();

export const requestSchemas = {
	createRoom: z.object({ metadata, token }),
	joinRoom: z.object({ ...inRoom, metadata, token }),
	rejoinRoom: z.object({ ...inRoom, peerId: id, reconnectToken: z.string().min(1).max(128), token }),
	getRouterRtpCapabilities: z.object(inRoom),
	createWebRtcTransport: z.object({ ...inRoom, direction: z.enum(['send', 'recv']), forceTcp: z.boolean().default(false) }),
	connectWebRtcTransport: z.object({ ...inRoom, transportId: objectId, dtlsParameters }),
	restartIce: z.object({ ...inRoom, transportId: objectId }),
	produce: z.object({ ...inRoom, transportId: objectId, kind: z.enum(['audio', 'video']), rtpParameters, metadata }),
	// rtpCapabilities are needed on a peer's first consume only: the room remembers them.
	consume: z.object({ ...inRoom, producerId: objectId, rtpCapabilities: rtpCapabilities.optional() }),
	consumeMany: z.object({
		...inRoom,
		producerIds: z
			.array(objectId)
			.min(1)
			.max(MAX_CONSUME_MANY)
			.refine((ids) => new Set(ids).size === ids.length, 'producerIds must not repeat'),
		rtpCapabilities: rtpCapabilities.optional()
	}),
	resumeConsumer: z.object({ ...inRoom, consumerId: objectId }),
	pauseConsumer: z.object({ ...inRoom, consumerId: objectId }),
	closeConsumer: z.object({ ...inRoom, consumerId: objectId }),
	pauseProducer: z.object({ ...inRoom, producerId: objectId }),
	resumeProducer: z.object({ ...inRoom, producerId: objectId }),
	closeProducer: z.object({ ...inRoom, producerId: objectId }),
	produceData: z.object({ ...inRoom, transportId: objectId, label: channelName, protocol: channelName, sctpStreamParameters, metadata }),
	consumeData: z.object({ ...inRoom, dataProducerId: objectId }),
	closeDataProducer: z.object({ ...inRoom, dataProducerId: objectId }),
	setConsumerPreferredLayers: z.object({ ...inRoom, consumerId: objectId, spatialLayer: int(0, MAX_LAYER), temporalLayer: int(0, MAX_LAYER).optional() }),
	setConsumerPriority: z.object({ ...inRoom, consumerId: objectId, priority: int(1, 255) }),
	requestConsumerKeyFrame: z.object({ ...inRoom, consumerId: objectId }),
	getTransportStats: z.object({ ...inRoom, transportId: objectId }),
	getProducerStats: z.object({ ...inRoom, producerId: objectId }),
	getConsumerStats: z.object({ ...inRoom, consumerId: objectId }),
	getProducers: z.object(inRoom),
	leaveRoom: z.object(inRoom),
	getRoomInfo: z.object(inRoom),
	heartbeat: z.object({})
} as const;

export type RequestMethod = keyof typeof requestSchemas;
/** A request's parameters after validation (defaults filled in). */
export type RequestData<M extends RequestMethod> = z.infer<(typeof requestSchemas)[M]>;
/** A request's parameters as a client sends them (defaulted fields optional). */
export type RequestParams<M extends RequestMethod> = WithClientMediaTypes<z.input<(typeof requestSchemas)[M]>>;

/**
 * Media fields as a client holds them: mediasoup-client's types. The schemas
 * bound these fields at run time; their inferred types are narrower than
 * mediasoup-client's (e.g. codec parameters), which would refuse a Device's own values.
 */
interface ClientMediaTypes {
	rtpCapabilities: mc.RtpCapabilities;
	rtpParameters: mc.RtpParameters;
	dtlsParameters: mc.DtlsParameters;
}

type WithClientMediaTypes<T> = { [K in keyof T]: K extends keyof ClientMediaTypes ? ClientMediaTypes[K] : T[K] };

/** Methods answered by the session registry (Rooms), before or without a room. */
export type SessionMethod = 'heartbeat' | 'createRoom' | 'joinRoom' | 'rejoinRoom';
/** Methods answered by the room a session has joined. */
export type RoomMethod = Exclude<RequestMethod, SessionMethod>;

export function isRequestMethod(method: string): method is RequestMethod {
	return Object.hasOwn(requestSchemas, method);
}

/** A validated request, discriminated by method. */
export type Request = { [M in RequestMethod]: { method: M; data: RequestData<M> } }[RequestMethod];
export type RoomRequest = Extract<Request, { method: RoomMethod }>;

function summarize(error: z.ZodError): string {
	return error.issues
		.slice(0, 3)
		.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`)
		.join('; ');
}

/** Checks a request's method and parameters; throws a RequestError (405 or 400) otherwise. */
export function validateRequest(method: string, data: unknown): Request {
	if (!isRequestMethod(method)) throw new RequestError(ErrorCode.UNKNOWN_METHOD, `unknown method ${method}`);

	const result = requestSchemas[method].safeParse(data);

	if (!result.success) throw new RequestError(ErrorCode.BAD_REQUEST, `invalid ${method} parameters: ${summarize(result.error)}`);

	return { method, data: result.data } as Request;
}

export interface ProducerInfo {
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	metadata: Record<string, unknown>;
	paused: boolean;
}

export interface DataProducerInfo {
	dataProducerId: string;
	peerId: string;
	label: string;
	protocol: string;
	metadata: Record<string, unknown>;
}

export interface PeerInfo {
	peerId: string;
	/** The join token's subject (AUTH_MODE=jwt only); metadata cannot override it. */
	identity?: string;
	metadata: Record<string, unknown>;
	producers: ProducerInfo[];
	dataProducers: DataProducerInfo[];
}

export interface Success {
	success: true;
}

export interface IceServer {
	urls: string[];
	username: string;
	credential: string;
}

export interface JoinResponse {
	roomId: string;
	peerId: string;
	/** Proves ownership of the peer at rejoinRoom. */
	reconnectToken: string;
	/** The other peers already in the room. */
	peers: PeerInfo[];
}

export interface RejoinResponse {
	roomId: string;
	peerId: string;
	/** The token for the next rejoin (each one is good once). */
	reconnectToken: string;
	peers: PeerInfo[];
	/** The peer's own producers, kept through the grace. */
	producers: ProducerInfo[];
	transports: { transportId: string; direction: 'send' | 'recv' }[];
	consumers: { consumerId: string; producerId: string }[];
	/** The peer's own data producers, kept through the grace. */
	dataProducers: DataProducerInfo[];
	dataConsumers: { dataConsumerId: string; dataProducerId: string }[];
}

export interface TransportResponse {
	/** Same as transportId (mediasoup-client's TransportOptions call it id). */
	id: string;
	transportId: string;
	direction: 'send' | 'recv';
	iceParameters: mc.IceParameters;
	iceCandidates: mc.IceCandidate[];
	dtlsParameters: mc.DtlsParameters;
	sctpParameters: mc.SctpParameters | undefined;
	iceServers: IceServer[];
}

export interface ConsumeResponse {
	/** Same as consumerId. */
	id: string;
	consumerId: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	rtpParameters: mc.RtpParameters;
	type: 'simple' | 'simulcast' | 'svc' | 'pipe';
	/** Audio starts flowing at once (false); video waits for resumeConsumer (true). */
	paused: boolean;
	producerPaused: boolean;
	metadata: Record<string, unknown>;
}

export interface ConsumeManyResponse {
	/** One per producer consumed, in the order asked. */
	consumers: ConsumeResponse[];
	/** The producers that could not be consumed, each with the code consume would have answered. */
	failed: { producerId: string; errorCode: number; errorReason: string }[];
}

export interface ConsumeDataResponse {
	/** Same as dataConsumerId. */
	id: string;
	dataConsumerId: string;
	dataProducerId: string;
	peerId: string;
	sctpStreamParameters: mc.SctpStreamParameters;
	label: string;
	protocol: string;
	metadata: Record<string, unknown>;
}

export interface RoomInfo {
	roomId: string;
	peerCount: number;
	maxPeers: number;
	peers: PeerInfo[];
}

/** mediasoup's getStats() entries for the object, as mediasoup gives them (RTCStats-like JSON). */
export interface StatsResponse {
	stats: Record<string, unknown>[];
}

/** What each request answers on success. */
export interface Responses {
	heartbeat: { serverTime: number };
	createRoom: JoinResponse;
	joinRoom: JoinResponse;
	rejoinRoom: RejoinResponse;
	getRouterRtpCapabilities: { rtpCapabilities: mc.RtpCapabilities };
	createWebRtcTransport: TransportResponse;
	connectWebRtcTransport: Success;
	restartIce: { iceParameters: mc.IceParameters };
	produce: { producerId: string; /** Same as producerId. */ id: string };
	consume: ConsumeResponse;
	consumeMany: ConsumeManyResponse;
	resumeConsumer: Success;
	pauseConsumer: Success;
	closeConsumer: Success;
	pauseProducer: Success;
	resumeProducer: Success;
	closeProducer: Success;
	produceData: { dataProducerId: string; /** Same as dataProducerId. */ id: string };
	consumeData: ConsumeDataResponse;
	closeDataProducer: Success;
	setConsumerPreferredLayers: Success;
	setConsumerPriority: Success;
	requestConsumerKeyFrame: Success;
	getTransportStats: StatsResponse;
	getProducerStats: StatsResponse;
	getConsumerStats: StatsResponse;
	getProducers: { producers: ProducerInfo[] };
	leaveRoom: Success;
	getRoomInfo: RoomInfo;
}

export interface Notifications {
	roomCreated: { roomId: string };
	peerJoined: { peerId: string; identity?: string; metadata: Record<string, unknown> };
	newProducer: { producerId: string; peerId: string; kind: 'audio' | 'video'; metadata: Record<string, unknown> };
	producerClosed: { producerId: string; peerId: string };
	producerPaused: { producerId: string; peerId: string };
	producerResumed: { producerId: string; peerId: string };
	peerLeft: { peerId: string };
	newDataProducer: DataProducerInfo;
	dataProducerClosed: { dataProducerId: string; peerId: string };
	/** The room's dominant speaker changed; null after a silence. */
	activeSpeaker: { peerId: string | null };
	/** The layers a consumer forwards now (null: none, e.g. paused or no bandwidth); at most one per consumer per second. */
	consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
	/** The consumer's send score and its producer's receive score (0-10); at most one per consumer per second. */
	consumerScore: { consumerId: string; score: number; producerScore: number };
	roomClosed: { reason: string };
	error: { code: number; message: string };
}

export type NotificationMethod = keyof Notifications;

/** A notification as a client receives it, discriminated by method. */
export type Notification = { [M in NotificationMethod]: { method: M; data: Notifications[M] } }[NotificationMethod];
