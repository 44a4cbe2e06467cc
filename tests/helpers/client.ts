// A test participant built from the real client libraries: protoo-client for
// signaling and mediasoup-client (FakeHandler: no WebRTC in Node) for the
// Device/Transport/Producer/Consumer flow.

import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import type { types as mc } from 'mediasoup-client';
import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import protooClient, { type Peer as ProtooPeer, type ProtooRequestError } from 'protoo-client';
import type { Notification, NotificationMethod, Notifications, RequestMethod, RequestParams, Responses, RoomMethod } from '../../lib/protocol/methods.js';
import { asNotification, request, sctpStream } from '../../lib/protocol/request.js';

/** One notification of a method. */
export type NotificationOf<M extends NotificationMethod> = Extract<Notification, { method: M }>;

/** A room request's parameters without the roomId the peer fills in. */
export type RoomParams<M extends RoomMethod> = Omit<RequestParams<M>, 'roomId'>;

/** A mediasoup-client Device on FakeHandler: the whole client flow without WebRTC. */
export function fakeDevice(): Device {
	return new Device({
		handlerFactory: FakeHandler.createFactory({
			generateNativeRtpCapabilities: testFakeParameters.generateNativeRtpCapabilities,
			generateLocalDtlsParameters: testFakeParameters.generateLocalDtlsParameters
		})
	});
}

export class TestPeer {
	readonly protoo: ProtooPeer;
	readonly notifications: Notification[] = [];
	readonly device = fakeDevice();
	roomId = '';
	peerId = '';
	reconnectToken = '';
	sendTransport: mc.Transport | undefined;
	recvTransport: mc.Transport | undefined;
	readonly producers = new Map<string, mc.Producer>();
	readonly consumers = new Map<string, mc.Consumer>();
	/** Typed requests sent (each has an answer): with notifications.length, the messages of this peer. */
	requests = 0;
	#waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];

	static async connect(url: string, options: { retries?: number } = {}): Promise<TestPeer> {
		const peer = new TestPeer(url, options.retries ?? 0);

		await new Promise<void>((resolve, reject) => {
			peer.protoo.once('open', () => resolve());
			peer.protoo.once('failed', () => reject(new Error('connection failed')));
			peer.protoo.once('close', () => reject(new Error('connection closed')));
		});

		return peer;
	}

	private constructor(url: string, retries: number) {
		const transport = new protooClient.WebSocketTransport(url, { retry: { retries, factor: 1, minTimeout: 100, maxTimeout: 200 } });

		this.protoo = new protooClient.Peer(transport);
		this.protoo.on('notification', (message) => {
			const n = asNotification(message);

			this.notifications.push(n);
			this.#waiters = this.#waiters.filter((w) => {
				if (!w.match(n)) return true;
				w.resolve(n);

				return false;
			});
		});
	}

	request<M extends RequestMethod>(method: M, ...[data]: {} extends RequestParams<M> ? [RequestParams<M>?] : [RequestParams<M>]): Promise<Responses[M]> {
		this.requests++;

		return request(this.protoo, method, (data ?? {}) as RequestParams<M>);
	}

	/** A request in this peer's room. */
	roomRequest<M extends RoomMethod>(method: M, ...[data]: {} extends RoomParams<M> ? [RoomParams<M>?] : [RoomParams<M>]): Promise<Responses[M]> {
		this.requests++;

		return request(this.protoo, method, { roomId: this.roomId, ...data } as RequestParams<M>);
	}

	/** Sends anything (bad-input tests): no types on either side. */
	untypedRequest(method: string, data: unknown = {}): Promise<unknown> {
		return this.protoo.request(method, data);
	}

	/** Resolves with the first notification (already received or future) that matches. */
	waitFor<M extends NotificationMethod>(method: M, match: (data: Notifications[M]) => boolean = () => true, timeoutMs = 10000): Promise<NotificationOf<M>> {
		const test = (n: Notification): n is NotificationOf<M> => n.method === method && match(n.data as Notifications[M]);
		const seen = this.notifications.find(test);

		if (seen) return Promise.resolve(seen);

		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);

			this.#waiters.push({
				match: test,
				resolve: (n) => {
					clearTimeout(timer);
					resolve(n as NotificationOf<M>);
				}
			});
		});
	}

	count<M extends NotificationMethod>(method: M, match: (data: Notifications[M]) => boolean = () => true): number {
		return this.notifications.filter((n) => n.method === method && match(n.data as Notifications[M])).length;
	}

	async create(metadata: Record<string, unknown> = {}): Promise<Responses['createRoom']> {
		const response = await this.request('createRoom', { metadata });

		this.#joined(response);

		return response;
	}

	async join(roomId: string, metadata: Record<string, unknown> = {}): Promise<Responses['joinRoom']> {
		const response = await this.request('joinRoom', { roomId, metadata });

		this.#joined(response);

		return response;
	}

	#joined(response: { roomId: string; peerId: string; reconnectToken: string }): void {
		this.roomId = response.roomId;
		this.peerId = response.peerId;
		this.reconnectToken = response.reconnectToken;
	}

	/** Loads the device and creates and wires both transports. */
	async setupMedia(): Promise<void> {
		const { rtpCapabilities } = await this.roomRequest('getRouterRtpCapabilities');

		if (!this.device.loaded) await this.device.load({ routerRtpCapabilities: rtpCapabilities });
		this.sendTransport = this.device.createSendTransport(await this.roomRequest('createWebRtcTransport', { direction: 'send' }));
		this.recvTransport = this.device.createRecvTransport(await this.roomRequest('createWebRtcTransport', { direction: 'recv' }));

		for (const transport of [this.sendTransport, this.recvTransport]) {
			transport.on('connect', ({ dtlsParameters }, callback, errback) => {
				this.roomRequest('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
			});
		}
		this.sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			this.roomRequest('produce', { transportId: this.sendTransport!.id, kind, rtpParameters, metadata: appData })
				.then(({ producerId }) => callback({ id: producerId }), errback);
		});
		this.sendTransport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
			Promise.resolve()
				.then(() => this.roomRequest('produceData', { transportId: this.sendTransport!.id, sctpStreamParameters: sctpStream(sctpStreamParameters), label, protocol, metadata: appData }))
				.then(({ dataProducerId }) => callback({ id: dataProducerId }), errback);
		});
	}

	/** A data channel on the send transport (FakeHandler: signaling only, no messages flow). */
	produceData(label: string, metadata: Record<string, unknown> = {}): Promise<mc.DataProducer> {
		return this.sendTransport!.produceData({ label, appData: metadata });
	}

	/** consumeData + the client-side data consumer. */
	async consumeData(dataProducerId: string): Promise<mc.DataConsumer> {
		const data = await this.roomRequest('consumeData', { dataProducerId });

		return this.recvTransport!.consumeData({
			id: data.dataConsumerId,
			dataProducerId: data.dataProducerId,
			sctpStreamParameters: data.sctpStreamParameters,
			label: data.label,
			protocol: data.protocol
		});
	}

	/** A producer of a fake track; `encodings` as a browser would send them (simulcast, SVC). */
	async produce(kind: 'audio' | 'video', metadata: Record<string, unknown>, encodings?: mc.RtpEncodingParameters[]): Promise<mc.Producer> {
		const track = new FakeMediaStreamTrack({ kind });
		const producer = await this.sendTransport!.produce({ track: track as unknown as mc.ProducerOptions['track'], appData: metadata, ...(encodings ? { encodings } : {}) });

		this.producers.set(producer.id, producer);

		return producer;
	}

	/**
	 * The short consume flow (what the browser client does): rtpCapabilities
	 * on the first consume only, and resumeConsumer only for consumers the
	 * server made paused (video). Off: the original flow, capabilities on
	 * every consume and a resume for each consumer, as older clients do.
	 */
	shortFlow = false;
	#capabilitiesSent = false;

	/** consume + client-side consumer + resumeConsumer where needed, as a real client does. */
	async consume(producerId: string): Promise<mc.Consumer> {
		return this.#consumed(await this.roomRequest('consume', { producerId, ...this.#capabilities() }));
	}

	/** consumeMany + a client-side consumer for each producer it consumed; `failed` as the server answered. */
	async consumeMany(producerIds: string[]): Promise<{ consumers: mc.Consumer[]; failed: Responses['consumeMany']['failed'] }> {
		const answer = await this.roomRequest('consumeMany', { producerIds, ...this.#capabilities() });

		return { consumers: await Promise.all(answer.consumers.map((data) => this.#consumed(data))), failed: answer.failed };
	}

	#capabilities(): { rtpCapabilities?: mc.RtpCapabilities } {
		return this.shortFlow && this.#capabilitiesSent ? {} : { rtpCapabilities: this.device.rtpCapabilities };
	}

	async #consumed(data: Responses['consume']): Promise<mc.Consumer> {
		this.#capabilitiesSent = true;

		const consumer = await this.recvTransport!.consume({
			id: data.consumerId,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters,
			appData: { peerId: data.peerId, metadata: data.metadata }
		});

		if (data.paused || !this.shortFlow) await this.roomRequest('resumeConsumer', { consumerId: consumer.id });
		this.consumers.set(consumer.id, consumer);

		return consumer;
	}

	/** Closes the WebSocket under protoo-client without telling protoo (like a network drop): it reconnects by itself. */
	dropSocket(): void {
		(this.protoo as unknown as { _transport: { _ws: { close(): void } } })._transport._ws.close();
	}

	close(): void {
		this.protoo.close();
	}
}

/** protoo-client rejects with an Error carrying the server's errorCode. */
export async function errorCodeOf(promise: Promise<unknown>): Promise<number> {
	try {
		await promise;
	} catch (error) {
		return (error as ProtooRequestError).code;
	}

	throw new Error('request succeeded, an error was expected');
}

/**
 * Alice creates a room and bob joins it; both close when the test ends. With
 * `media`, both then have their send and receive transports.
 */
export async function aliceAndBob(
	t: { teardown: (fn: () => void) => void },
	url: string,
	{ media = false, aliceRetries = 0, named = false } = {}
): Promise<{ alice: TestPeer; bob: TestPeer }> {
	const [alice, bob] = await Promise.all([TestPeer.connect(url, { retries: aliceRetries }), TestPeer.connect(url)]);

	t.teardown(() => [alice, bob].forEach((p) => p.close()));
	await alice.create(named ? { displayName: 'alice' } : {});
	await bob.join(alice.roomId, named ? { displayName: 'bob' } : {});
	if (media) await Promise.all([alice.setupMedia(), bob.setupMedia()]);

	return { alice, bob };
}
