// The room's bandwidth side: who speaks (ActiveSpeaker), what each producer's
// layers cost (LayerCosts) and what each receiving peer gets (DownlinkBudget).
// A tick once a second refreshes the costs and the plans of peers receiving
// simulcast or SVC; a new consumer, a change of speaker or a client's wish
// re-plans at once.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import type * as ms from 'mediasoup/types';
import { ActiveSpeaker } from './ActiveSpeaker.js';
import { DownlinkBudget, type DownlinkSnapshot } from './DownlinkBudget.js';
import { LayerCosts } from './LayerCosts.js';
import type { Peer, ProducerAppData } from './Peer.js';

const debug = debugFactory('vcall:bandwidth');

const TICK_MS = 1000;

export interface RoomBandwidthEvents {
	activeSpeaker: [peerId: string | null];
}

/** mediasoup rejects calls on objects that closed meanwhile: the next tick sees them gone. */
function ignoreClosed(error: unknown): void {
	debug('bandwidth step skipped: %s', (error as Error).message);
}

export class RoomBandwidth extends EventEmitter<RoomBandwidthEvents> {
	readonly #speaker: ActiveSpeaker;
	readonly #maxDownlinkBitrate: number;
	readonly #costs = new Map<string, LayerCosts>();
	readonly #budgets = new Map<Peer, DownlinkBudget>();
	readonly #timer: NodeJS.Timeout;
	#closed = false;

	static async create(router: ms.Router, maxDownlinkBitrate: number): Promise<RoomBandwidth> {
		return new RoomBandwidth(await ActiveSpeaker.create(router), maxDownlinkBitrate);
	}

	private constructor(speaker: ActiveSpeaker, maxDownlinkBitrate: number) {
		super();
		this.#speaker = speaker;
		this.#maxDownlinkBitrate = maxDownlinkBitrate;
		speaker.on('speaker', (peerId) => {
			this.emit('activeSpeaker', peerId);
			this.#allocateAll();
		});
		this.#timer = setInterval(() => void this.#tick(), TICK_MS).unref();
	}

	get closed(): boolean {
		return this.#closed;
	}

	get activeSpeaker(): string | null {
		return this.#speaker.peerId;
	}

	async producerAdded(producer: ms.Producer<ProducerAppData>): Promise<void> {
		this.#costs.set(producer.id, new LayerCosts(producer));
		producer.observer.once('close', () => this.#costs.delete(producer.id));
		await this.#speaker.add(producer);
	}

	/** The peer's (new) recv transport: its budget starts with it. */
	async recvTransportCreated(peer: Peer, transport: ms.WebRtcTransport): Promise<void> {
		const budget = await DownlinkBudget.create(transport, this.#maxDownlinkBitrate, peer.notify);

		this.#budgets.get(peer)?.close();
		this.#budgets.set(peer, budget);
	}

	consumerAdded(peer: Peer, consumer: ms.Consumer, producer: ms.Producer<ProducerAppData>, scalabilityMode: string | undefined): Promise<void> {
		const budget = this.#budgetOf(peer);
		const costs = this.#costs.get(producer.id);

		if (!budget || !costs) return Promise.resolve();

		const source = producer.appData.metadata.source;

		budget.add(consumer, producer.appData.peerId, typeof source === 'string' ? source : 'camera', costs, scalabilityMode);

		return this.#allocate(budget);
	}

	/** Whether the consumer has layers to choose from (simulcast or SVC video). */
	layered(peer: Peer, consumer: ms.Consumer): boolean {
		return this.#budgetOf(peer)?.layered(consumer.id) ?? false;
	}

	preferLayers(peer: Peer, consumer: ms.Consumer, spatialLayer: number, temporalLayer: number | undefined): Promise<void> {
		const budget = this.#budgetOf(peer);

		budget?.prefer(consumer.id, spatialLayer, temporalLayer);

		return budget ? this.#allocate(budget) : Promise.resolve();
	}

	prioritize(peer: Peer, consumer: ms.Consumer, priority: number): Promise<void> {
		const budget = this.#budgetOf(peer);

		budget?.prioritize(consumer.id, priority);

		return budget ? this.#allocate(budget) : Promise.resolve();
	}

	peerRemoved(peer: Peer): void {
		this.#budgets.get(peer)?.close();
		this.#budgets.delete(peer);
		this.#speaker.peerGone(peer.id);
	}

	/** Each receiving peer's figures, for /metrics. */
	snapshots(): DownlinkSnapshot[] {
		return [...this.#budgets.values()].map((budget) => budget.snapshot());
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		for (const budget of this.#budgets.values()) budget.close();
		this.#budgets.clear();
		this.#speaker.close();
	}

	/** The budget of the peer's recv transport (undefined once that closed). */
	#budgetOf(peer: Peer): DownlinkBudget | undefined {
		const budget = this.#budgets.get(peer);

		return budget && !budget.closed ? budget : undefined;
	}

	#allocate(budget: DownlinkBudget): Promise<void> {
		return budget.allocate(this.#speaker.peerId).catch(ignoreClosed);
	}

	#allocateAll(): void {
		for (const budget of this.#budgets.values()) void this.#allocate(budget);
	}

	/**
	 * Re-plans the budgets that have a layer to choose, with fresh costs.
	 * A room of single streams (the client's 640x480 default) has none: its
	 * priorities are planned when a consumer arrives or the speaker changes,
	 * and the tick then costs no worker request (it was 21 a second per
	 * 7-peer room, 6 % of a core for 50 idle rooms).
	 */
	async #tick(): Promise<void> {
		if (this.#closed) return;

		const layered = [...this.#budgets.values()].filter((budget) => !budget.closed && budget.hasLayers);

		if (layered.length === 0) return;
		await Promise.all([...this.#costs.values()].map((costs) => costs.refresh().catch(ignoreClosed)));
		for (const budget of layered) void this.#allocate(budget);
	}
}
