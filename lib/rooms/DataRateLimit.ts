// Holds each data producer of a room to DATA_MESSAGES_PER_SECOND. The worker
// forwards data channel messages itself, so the room listens in: a
// DirectTransport on the router consumes every data producer, counts its
// messages per one-second window, and pauses the producer (the worker then
// drops what it sends) until the window ends.

import debugFactory from 'debug';
import type * as ms from 'mediasoup/types';

const debug = debugFactory('vcall:data-rate');

const WINDOW_MS = 1000;

export class DataRateLimit {
	readonly #router: ms.Router;
	readonly #perSecond: number;
	#transport: Promise<ms.DirectTransport> | undefined;

	constructor(router: ms.Router, perSecond: number) {
		this.#router = router;
		this.#perSecond = perSecond;
	}

	/** Starts counting; onLimited runs once per window in which the producer went over the limit. */
	async watch(dataProducer: ms.DataProducer, onLimited: () => void): Promise<void> {
		this.#transport ??= this.#router.createDirectTransport();

		const transport = await this.#transport;
		const listener = await transport.consumeData({ dataProducerId: dataProducer.id });
		const watched = { count: 0, windowStart: Date.now(), resumeTimer: undefined as NodeJS.Timeout | undefined };

		listener.on('message', () => {
			const now = Date.now();

			if (now - watched.windowStart >= WINDOW_MS) {
				watched.windowStart = now;
				watched.count = 0;
			}
			if (++watched.count !== this.#perSecond + 1) return;
			debug('data producer %s over %d messages/s: paused', dataProducer.id, this.#perSecond);
			onLimited();
			void dataProducer.pause().catch(() => undefined);
			watched.resumeTimer = setTimeout(() => {
				watched.resumeTimer = undefined;
				if (!dataProducer.closed) void dataProducer.resume().catch(() => undefined);
			}, watched.windowStart + WINDOW_MS - now);
		});
		// Closing the data producer closes the listening consumer with it.
		listener.observer.once('close', () => {
			clearTimeout(watched.resumeTimer);
		});
	}
}
