// What each spatial layer of a producer costs a receiver, in bits/s, from
// the producer's own receive stats (refreshed once a second): a simulcast
// producer's stream per encoding, an SVC stream's bitrate by layer, a single
// stream's bitrate. Until stats come in, the encodings' maxBitrate or the
// client's targets stand in.

import { parseScalabilityMode } from 'mediasoup';
import type * as ms from 'mediasoup/types';

/** The browser client's simulcast targets (1/4, 1/2, full resolution); a layer without figures costs this. */
const DEFAULT_LAYER_BITRATES = [150_000, 500_000, 1_200_000];
const DEFAULT_AUDIO_BITRATE = 40_000;
/** Weight of the newest sample: a layer's rate moves with its content but a keyframe does not swing it. */
const SMOOTHING = 0.4;
/**
 * A layer never counts for less than this share of its encoding's maxBitrate:
 * while the sender's own estimate ramps up, every layer's measured rate
 * understates what it will use a few seconds later.
 */
const FLOOR_SHARE = 0.5;

export class LayerCosts {
	readonly #producer: ms.Producer;
	readonly #encodings: ms.RtpEncodingParameters[];
	readonly #svc: { spatialLayers: number; temporalLayers: number } | undefined;
	readonly #costs: number[];
	readonly #floors: number[];

	constructor(producer: ms.Producer) {
		this.#producer = producer;
		this.#encodings = producer.rtpParameters.encodings ?? [];

		const mode = parseScalabilityMode(this.#encodings[0]?.scalabilityMode);

		this.#svc = producer.type === 'svc' ? mode : undefined;

		const layers = producer.kind === 'audio' ? 1 : (this.#svc?.spatialLayers ?? Math.max(1, this.#encodings.length));

		this.#costs = Array.from({ length: layers }, (_, i) => this.#fallback(i, layers));
		this.#floors = Array.from({ length: layers }, (_, i) => FLOOR_SHARE * (this.#svc ? 0 : (this.#encodings[i]?.maxBitrate ?? 0)));
	}

	/** Spatial layers the producer sends. */
	get layers(): number {
		return this.#costs.length;
	}

	/** Bits/s a receiver of `spatialLayer` (all temporal layers) gets; the top layer when out of range. */
	cost(spatialLayer: number): number {
		const layer = Math.min(spatialLayer, this.#costs.length - 1);

		return Math.max(this.#costs[layer] ?? 0, this.#floors[layer] ?? 0);
	}

	async refresh(): Promise<void> {
		if (this.#producer.closed) return;

		const stats = await this.#producer.getStats();

		for (let layer = 0; layer < this.#costs.length; layer++) {
			const measured = this.#measured(stats, layer);

			// Audio takes the newest figure: with DTX a falling-silent microphone costs next to nothing at once.
			if (this.#producer.kind === 'audio') this.#costs[layer] = measured;
			else if (measured > 0) this.#costs[layer] = Math.round(SMOOTHING * measured + (1 - SMOOTHING) * this.#costs[layer]!);
		}
	}

	#measured(stats: ms.ProducerStat[], layer: number): number {
		if (this.#svc) return stats[0]?.bitrateByLayer[`${layer}.${this.#svc.temporalLayers - 1}`] ?? 0;
		if (this.#costs.length === 1) return stats.reduce((sum, stat) => sum + stat.bitrate, 0);

		const encoding = this.#encodings[layer];
		const stat = stats.find((s) => (encoding?.rid !== undefined ? s.rid === encoding.rid : s.ssrc === encoding?.ssrc));

		return stat?.bitrate ?? 0;
	}

	#fallback(layer: number, layers: number): number {
		if (this.#producer.kind === 'audio') return DEFAULT_AUDIO_BITRATE;

		const fromEncoding = this.#svc ? undefined : this.#encodings[layer]?.maxBitrate;

		return fromEncoding ?? DEFAULT_LAYER_BITRATES[DEFAULT_LAYER_BITRATES.length - layers + layer] ?? DEFAULT_LAYER_BITRATES[0]!;
	}
}
