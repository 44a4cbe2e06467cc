// What the server sends one receiving peer. The recv transport's outgoing
// bitrate is capped at MAX_DOWNLINK_BITRATE (mediasoup then keeps the sum of
// the consumers' layers under min(cap, bandwidth estimate)); within that the
// budget decides who gets which layer: audio always, screen shares first,
// the active speaker's camera at the best layer that fits, everyone else at
// the lowest layer, raised one step at a time while budget remains. A
// consumer's layers change at most every HYSTERESIS_MS. A consumer the
// estimate pushed down (the estimate below the cap, so the link is what
// limits) is not raised again for a while (RAISE_HOLD_MS,
// doubling each time it is pushed down again): on a capped link the next
// layer's nominal cost often "fits" the recovered estimate, yet its key
// frames and bursts bring the loss back. A new speaker is not held.

import debugFactory from 'debug';
import { parseScalabilityMode } from 'mediasoup';
import type * as ms from 'mediasoup/types';
import type { Notifications } from '../protocol/methods.js';
import type { LayerCosts } from './LayerCosts.js';
import { Throttle } from './Throttle.js';

const debug = debugFactory('vcall:budget');

const HYSTERESIS_MS = 2000;
const RAISE_HOLD_MS = 15_000;
const MAX_RAISE_HOLD_MS = 120_000;
/** Layer and score notifications: at most one per consumer per second. */
const NOTIFY_INTERVAL_MS = 1000;
/** The policy's priorities for mediasoup's own distribution of the estimate (1-255; higher is served first). */
const PRIORITY = { screen: 200, speaker: 100, other: 1 } as const;
const SWITCH_WINDOW_MS = 60_000;
/** How far over the budget the plan may go for screens and the speaker (a share of the budget). */
const PRIORITY_SLACK = 0.2;

export type Notify = <M extends 'consumerLayersChanged' | 'consumerScore'>(method: M, data: Notifications[M]) => void;

interface Entry {
	consumer: ms.Consumer;
	/** The producer's peer and metadata.source. */
	peerId: string;
	screen: boolean;
	costs: LayerCosts;
	/** Layers the consumer can have (from its scalability mode). */
	spatialLayers: number;
	temporalLayers: number;
	/** What the client asked for (an upper bound), if it did. */
	clientSpatial?: number;
	clientTemporal?: number;
	clientPriority?: number;
	/** The spatial layer the budget last set, and when. */
	spatial?: number;
	changedAt: number;
	/** After the estimate pushed it down: no raise before holdUntil; the next hold lasts holdMs * 2. */
	holdUntil: number;
	holdMs: number;
}

export interface DownlinkSnapshot {
	/** The latest send score of each video consumer. */
	scores: number[];
	/** Layer changes of its consumers in the last minute. */
	switchesLastMinute: number;
}

export class DownlinkBudget {
	readonly #transport: ms.WebRtcTransport;
	readonly #maxBitrate: number;
	readonly #entries = new Map<string, Entry>();
	readonly #layersNotes: Throttle<Notifications['consumerLayersChanged']>;
	readonly #scoreNotes: Throttle<Notifications['consumerScore']>;
	readonly #switches: number[] = [];
	/** The transport's latest bandwidth estimate (BWE trace), bits/s. */
	#estimate: number | undefined;
	/** The speaker of the previous allocation: a change of speaker is not congestion. */
	#lastSpeaker: string | null = null;
	/** Set once the first layered consumer arrives: only then does the estimate decide anything. */
	#tracing: Promise<void> | undefined;
	#closed = false;

	static async create(transport: ms.WebRtcTransport, maxBitrate: number, notify: Notify): Promise<DownlinkBudget> {
		await transport.setMaxOutgoingBitrate(maxBitrate);

		return new DownlinkBudget(transport, maxBitrate, notify);
	}

	private constructor(transport: ms.WebRtcTransport, maxBitrate: number, notify: Notify) {
		this.#transport = transport;
		this.#maxBitrate = maxBitrate;
		this.#layersNotes = new Throttle(NOTIFY_INTERVAL_MS, (_, data) => notify('consumerLayersChanged', data));
		this.#scoreNotes = new Throttle(NOTIFY_INTERVAL_MS, (_, data) => notify('consumerScore', data));
		transport.on('trace', (trace) => {
			if (trace.type === 'bwe') this.#estimate = (trace.info as { availableBitrate: number }).availableBitrate;
		});
		transport.observer.once('close', () => this.close());
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** What the budget allows now: the cap, or the estimate when lower. */
	get bitrate(): number {
		return Math.min(this.#maxBitrate, this.#estimate ?? this.#maxBitrate);
	}

	/**
	 * Plans `consumer` from now on. `scalabilityMode` is its encoding's (the
	 * caller has read the consumer's rtpParameters, and each read is a clone).
	 * The first layered consumer turns on the transport's BWE trace: a
	 * budget of single streams has no layer the estimate could change.
	 */
	add(consumer: ms.Consumer, peerId: string, source: string, costs: LayerCosts, scalabilityMode: string | undefined): void {
		const mode = parseScalabilityMode(scalabilityMode);

		// A closed transport refuses it; the budget closes with it.
		if (isLayered(consumer)) this.#tracing ??= this.#transport.enableTraceEvent(['bwe']).catch(() => undefined);

		const entry: Entry = {
			consumer,
			peerId,
			screen: source === 'screen',
			costs,
			spatialLayers: consumer.type === 'simple' ? 1 : mode.spatialLayers,
			temporalLayers: mode.temporalLayers,
			changedAt: 0,
			holdUntil: 0,
			holdMs: RAISE_HOLD_MS / 2
		};

		this.#entries.set(consumer.id, entry);
		consumer.on('layerschange', (layers) => {
			this.#switches.push(Date.now());
			this.#layersNotes.push(consumer.id, { consumerId: consumer.id, spatialLayer: layers?.spatialLayer ?? null, temporalLayer: layers?.temporalLayer ?? null });
		});
		consumer.on('score', ({ score, producerScore }) => this.#scoreNotes.push(consumer.id, { consumerId: consumer.id, score, producerScore }));
		consumer.observer.once('close', () => {
			this.#entries.delete(consumer.id);
			this.#layersNotes.delete(consumer.id);
			this.#scoreNotes.delete(consumer.id);
		});
	}

	/** Whether the consumer can change layers (simulcast or SVC video). */
	layered(consumerId: string): boolean {
		const entry = this.#entries.get(consumerId);

		return entry !== undefined && isLayered(entry.consumer);
	}

	/** Whether any of its consumers can change layers: without one, a new estimate or cost changes nothing. */
	get hasLayers(): boolean {
		for (const { consumer } of this.#entries.values()) if (isLayered(consumer)) return true;

		return false;
	}

	/** The client's wish: never above it, and never above what the budget allows. */
	prefer(consumerId: string, spatialLayer: number, temporalLayer: number | undefined): void {
		const entry = this.#entries.get(consumerId);

		if (!entry) return;
		entry.clientSpatial = spatialLayer;
		entry.clientTemporal = temporalLayer;
		// The client's own request is not held back by the hysteresis.
		entry.changedAt = 0;
	}

	prioritize(consumerId: string, priority: number): void {
		const entry = this.#entries.get(consumerId);

		if (entry) entry.clientPriority = priority;
	}

	snapshot(now = Date.now()): DownlinkSnapshot {
		while (this.#switches.length > 0 && this.#switches[0]! < now - SWITCH_WINDOW_MS) this.#switches.shift();

		return {
			scores: [...this.#entries.values()].filter((e) => e.consumer.kind === 'video').map((e) => e.consumer.score.score),
			switchesLastMinute: this.#switches.length
		};
	}

	/** Plans every consumer's layer for `speaker` and applies what the hysteresis allows. */
	async allocate(speaker: string | null, now = Date.now()): Promise<void> {
		if (this.#closed) return;

		const live = [...this.#entries.values()].filter((e) => !e.consumer.closed && !e.consumer.paused && !e.consumer.producerPaused);
		let remaining = this.bitrate;

		for (const entry of live) if (entry.consumer.kind === 'audio') remaining -= entry.costs.cost(0);

		const video = live.filter((e) => e.consumer.kind === 'video');
		const plan = new Map<Entry, number>();
		const cost = (entry: Entry, layer: number) => (entry.spatialLayers === 1 ? entry.costs.cost(Number.MAX_SAFE_INTEGER) : entry.costs.cost(layer));
		const speakerChanged = speaker !== this.#lastSpeaker;
		const limitedByLink = this.#estimate !== undefined && this.#estimate < this.#maxBitrate;
		const held = (entry: Entry) => !speakerChanged && entry.spatial !== undefined && now < entry.holdUntil;
		/** The highest layer the consumer can have and its client wants. */
		const wanted = (entry: Entry) => Math.min(entry.spatialLayers, entry.costs.layers, (entry.clientSpatial ?? Infinity) + 1) - 1;
		const top = (entry: Entry) => (held(entry) ? Math.min(wanted(entry), entry.spatial!) : wanted(entry));
		/** One step up for `entry` if it fits within `slack` more (and stays at or under `ceiling`); whether it moved. */
		const raise = (entry: Entry, ceiling = Infinity, slack = 0): boolean => {
			const layer = plan.get(entry)!;
			const extra = cost(entry, layer + 1) - cost(entry, layer);

			if (layer >= Math.min(top(entry), ceiling) || extra > remaining + slack) return false;
			plan.set(entry, layer + 1);
			remaining -= extra;

			return true;
		};

		// Everyone's lowest layer first, so no one is left without video.
		for (const entry of video) {
			plan.set(entry, 0);
			remaining -= cost(entry, 0);
		}

		const screens = video.filter((e) => e.screen);
		const speakers = video.filter((e) => !e.screen && e.peerId === speaker);
		const others = video.filter((e) => !e.screen && e.peerId !== speaker);

		// Screens and the speaker may plan a little over: the transport's cap still holds (mediasoup
		// lowers the lowest-priority consumers first), and a layer measured at its peak rate
		// must not keep the speaker at the bottom layer beside everyone else.
		const slack = this.bitrate * PRIORITY_SLACK;

		for (const entry of [...screens, ...speakers]) while (raise(entry, Infinity, slack));

		// A speaker the budget stopped short is not overtaken by someone whose next layer happens to be cheaper.
		const ceiling = Math.min(...speakers.filter((e) => plan.get(e)! < top(e)).map((e) => plan.get(e)!));

		for (let moved = true; moved; ) moved = others.map((entry) => raise(entry, ceiling)).some(Boolean);

		for (const entry of video) if (speakerChanged && entry.peerId === speaker) entry.holdUntil = 0;
		this.#lastSpeaker = speaker;

		await Promise.all(
			video.map((entry) => {
				const layer = plan.get(entry)!;
				// Pushed below what it had and what its client wants, with the same speaker, while the
				// estimate (not the cap) bounds the budget: the link did it, not a change of costs.
				const congested = limitedByLink && !speakerChanged && entry.spatial !== undefined && layer < Math.min(entry.spatial, wanted(entry));
				const priority = entry.screen ? PRIORITY.screen : entry.peerId === speaker ? PRIORITY.speaker : PRIORITY.other;

				return this.#apply(entry, layer, priority, congested, now);
			})
		);
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#layersNotes.close();
		this.#scoreNotes.close();
		this.#entries.clear();
	}

	async #apply(entry: Entry, spatial: number, policyPriority: number, congested: boolean, now: number): Promise<void> {
		const { consumer } = entry;
		const priority = entry.clientPriority ?? policyPriority;

		if (consumer.priority !== priority) await consumer.setPriority(priority);
		if (consumer.type === 'simple') return;

		const temporalLayer = Math.min(entry.clientTemporal ?? Infinity, entry.temporalLayers - 1);

		if (entry.spatial === spatial && consumer.preferredLayers?.temporalLayer === temporalLayer) return;
		if (entry.spatial !== undefined && now - entry.changedAt < HYSTERESIS_MS) return;
		debug('consumer %s: spatial %d -> %d (budget %d)', consumer.id, entry.spatial ?? -1, spatial, this.bitrate);
		entry.spatial = spatial;
		entry.changedAt = now;
		if (congested) {
			entry.holdMs = Math.min(entry.holdMs * 2, MAX_RAISE_HOLD_MS);
			entry.holdUntil = now + entry.holdMs;
		}
		await consumer.setPreferredLayers({ spatialLayer: spatial, temporalLayer });
	}
}

function isLayered(consumer: ms.Consumer): boolean {
	return consumer.type !== 'simple' && consumer.kind === 'video';
}
