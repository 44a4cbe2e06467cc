// Full participants for load: the tests' TestPeer (protoo-client +
// mediasoup-client FakeHandler) going through the whole join a real client
// does, and consuming every producer that appears later, as a real app does
// on newProducer.

import { asNotification } from '../../../lib/protocol/request.js';
import { TestPeer } from '../../helpers/client.js';
import { withTimeout } from './stats.js';

export interface JoinTiming {
	/** From starting the WebSocket to its open event. */
	connectMs: number;
	/** From WebSocket open to the last of its consumers resumed. */
	joinMs: number;
	/** Consumers this peer resumed during the join. */
	consumers: number;
}

const STEP_TIMEOUT_MS = 30_000;

/** The first few unexpected consume errors of the run, for the report. */
export const consumeErrorSamples: string[] = [];

/** A 404 answer: the producer or consumer was closed in the meantime. */
export function isGone(error: unknown): boolean {
	return (error as { code?: number })?.code === 404;
}

/**
 * The same race seen through the server's media error (488): the worker had
 * already closed the consumer (its producer closed) when resumeConsumer
 * reached it ("Channel request handler with ID ... not found").
 */
export function isRacedClose(error: unknown): boolean {
	const e = error as { code?: number; message?: string };

	return e?.code === 488 && /handler with ID .* not found/.test(e.message ?? '');
}

/** One participant of a bench room. */
export class MediaPeer {
	readonly peer: TestPeer;
	/** Consumptions started on newProducer and not finished yet. */
	readonly #inflight = new Set<Promise<unknown>>();
	/** Failed consumptions (other than of producers closed meanwhile). */
	errors = 0;
	/** Consumptions of producers that closed before the consumer was set up (404: expected under churn). */
	gone = 0;
	/** Consumptions that met the closed-consumer race as a 488 (see isRacedClose). */
	raced = 0;
	#left = false;

	private constructor(peer: TestPeer) {
		this.peer = peer;
		peer.protoo.on('notification', (message) => {
			const n = asNotification(message);

			if (n.method !== 'newProducer' || this.#left) return;
			// Until its recv transport exists a client can only note the producer (as real clients queue it).
			if (this.#ready) this.#consumeOnce(n.data.producerId, true);
			else this.#early.push(n.data.producerId);
		});
	}

	/** Producers announced while the join was still setting up media. */
	readonly #early: string[] = [];
	#ready = false;
	readonly #consumed = new Set<string>();

	/** Consumes a producer unless it already is (a producer can be both in the join answer and announced). */
	#consumeOnce(producerId: string, track: boolean): Promise<unknown> | undefined {
		if (this.#consumed.has(producerId)) return undefined;
		this.#consumed.add(producerId);

		const consuming = this.peer.consume(producerId);

		if (track) this.#track(consuming);

		return consuming;
	}

	/** The short flow's join: every producer already there in one consumeMany; each refused one fails like its consume would. */
	#consumeAll(producerIds: string[]): Promise<unknown>[] {
		if (!producerIds.length) return [];
		for (const producerId of producerIds) this.#consumed.add(producerId);

		const batch = this.peer.consumeMany(producerIds);

		return producerIds.map((producerId) =>
			batch.then(({ failed }) => {
				const refusal = failed.find((f) => f.producerId === producerId);

				if (refusal) throw Object.assign(new Error(refusal.errorReason), { code: refusal.errorCode });
			})
		);
	}

	#track(promise: Promise<unknown>): void {
		const tracked = promise.catch((error: unknown) => {
			if (this.#left) return;
			if (isGone(error)) this.gone++;
			else if (isRacedClose(error)) this.raced++;
			else {
				this.errors++;
				if (consumeErrorSamples.length < 5) consumeErrorSamples.push(String((error as Error)?.message ?? error));
			}
		});

		this.#inflight.add(tracked);
		void tracked.finally(() => this.#inflight.delete(tracked));
	}

	/** Resolves when every consumption started on newProducer has finished. */
	async settled(): Promise<void> {
		while (this.#inflight.size) await Promise.all([...this.#inflight]);
	}

	/**
	 * Connects and joins (or creates, when roomId is undefined) a room with
	 * two transports, an audio and a video producer, and consumers of every
	 * producer already in the room.
	 */
	static async join(
		url: string,
		roomId: string | undefined,
		options: { audio?: boolean; video?: boolean; tolerateGone?: boolean; shortFlow?: boolean } = {}
	): Promise<{ member: MediaPeer; timing: JoinTiming }> {
		const started = performance.now();
		const peer = await withTimeout(TestPeer.connect(url), STEP_TIMEOUT_MS, 'connect');
		const opened = performance.now();
		const member = new MediaPeer(peer);

		peer.shortFlow = options.shortFlow ?? false;

		try {
			const response = await withTimeout(roomId ? peer.join(roomId) : peer.create(), STEP_TIMEOUT_MS, 'join');

			await withTimeout(peer.setupMedia(), STEP_TIMEOUT_MS, 'setupMedia');
			if (options.audio ?? true) await withTimeout(peer.produce('audio', { source: 'mic' }), STEP_TIMEOUT_MS, 'produce audio');
			if (options.video ?? true) await withTimeout(peer.produce('video', { source: 'camera' }), STEP_TIMEOUT_MS, 'produce video');

			const existing: string[] = (response.peers as { producers: { producerId: string }[] }[]).flatMap((p) => p.producers.map((x) => x.producerId));

			member.#ready = true;

			const consumptions = peer.shortFlow ? member.#consumeAll(existing) : existing.map((producerId) => member.#consumeOnce(producerId, false) ?? Promise.resolve());

			// Announced during the setup: consumed like later ones (not part of the timed join).
			for (const producerId of member.#early.splice(0)) member.#consumeOnce(producerId, true);

			const consumed = await withTimeout(
				Promise.all(
					consumptions.map((consuming) =>
						consuming.then(
							() => true,
							(error: unknown) => {
								// Under churn a producer may close between joinRoom and consume.
								if (options.tolerateGone && isGone(error)) return false;
								if (options.tolerateGone && isRacedClose(error)) {
									member.raced++;

									return true;
								}
								throw error;
							}
						)
					)
				),
				STEP_TIMEOUT_MS,
				'consume'
			);

			member.gone += consumed.filter((ok) => !ok).length;

			return { member, timing: { connectMs: opened - started, joinMs: performance.now() - opened, consumers: consumed.filter(Boolean).length } };
		} catch (error) {
			member.drop();
			throw error;
		}
	}

	get roomId(): string {
		return this.peer.roomId;
	}

	/** Closes one of its producers (closeProducer) and opens a new one of the same kind. */
	async replaceProducer(kind: 'audio' | 'video'): Promise<void> {
		const producer = [...this.peer.producers.values()].find((p) => p.kind === kind && !p.closed);

		if (producer) {
			producer.close();
			this.peer.producers.delete(producer.id);
			await this.peer.roomRequest('closeProducer', { producerId: producer.id });
		}
		await this.peer.produce(kind, { source: kind === 'audio' ? 'mic' : 'camera' });
	}

	/** leaveRoom, then close the WebSocket. */
	async leave(): Promise<void> {
		this.#left = true;
		try {
			await withTimeout(this.peer.roomRequest('leaveRoom'), 10_000, 'leaveRoom');
		} finally {
			this.peer.close();
		}
	}

	/** Closes the WebSocket without leaving (the server sees a dropped connection). */
	drop(): void {
		this.#left = true;
		this.peer.close();
	}
}

/** A room of MediaPeers joined one after the other; timings per join index. */
export class MediaRoom {
	readonly members: MediaPeer[] = [];
	readonly timings: JoinTiming[] = [];
	/** Per join: from the newcomer's WebSocket open until every member consumed its producers. */
	readonly settledMs: number[] = [];

	async add(url: string, options: { measureSettle?: boolean; shortFlow?: boolean } = {}): Promise<JoinTiming> {
		const { member, timing } = await MediaPeer.join(url, this.members[0]?.roomId, { shortFlow: options.shortFlow });

		this.members.push(member);
		this.timings.push(timing);
		if (options.measureSettle) {
			const before = performance.now();

			await withTimeout(Promise.all(this.members.map((m) => m.settled())), STEP_TIMEOUT_MS, 'room settled');
			this.settledMs.push(timing.joinMs + (performance.now() - before));
		}

		return timing;
	}

	static async fill(url: string, peers: number, options: { measureSettle?: boolean } = {}): Promise<MediaRoom> {
		const room = new MediaRoom();

		for (let i = 0; i < peers; i++) await room.add(url, options);
		await Promise.all(room.members.map((m) => m.settled()));

		return room;
	}

	async leave(): Promise<void> {
		await Promise.allSettled(this.members.map((m) => m.leave()));
		this.members.length = 0;
	}

	get errors(): number {
		return this.members.reduce((sum, m) => sum + m.errors, 0);
	}

	/** WebSocket messages of the room so far: each request and its answer, and every notification. */
	get messages(): number {
		return this.members.reduce((sum, m) => sum + 2 * m.peer.requests + m.peer.notifications.length, 0);
	}
}
