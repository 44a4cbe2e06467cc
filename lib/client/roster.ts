// The other peers of the room and what each sends, as the server last said
// (the join and rejoin answers, then notifications). What leaves the roster
// is reported, so the call can close what it consumed of it.

import type { DataProducerInfo, PeerInfo, ProducerInfo } from '../protocol/methods.js';
import type { RemotePeerState } from './api.js';
import { sourceOf } from './media.js';

interface RemotePeer {
	peerId: string;
	displayName: string;
	producers: Map<string, ProducerInfo>;
	dataProducers: Map<string, DataProducerInfo>;
}

export interface RosterEvents {
	peerGone(peerId: string, reason: string): void;
	producerGone(producerId: string, reason: string): void;
	dataProducerGone(dataProducerId: string): void;
}

function nameOf(metadata: Record<string, unknown> | undefined, peerId: string): string {
	const name = metadata?.displayName;

	return typeof name === 'string' && name ? name : peerId.slice(0, 6);
}

export class Roster {
	readonly #peers = new Map<string, RemotePeer>();
	readonly #events: RosterEvents;

	constructor(events: RosterEvents) {
		this.#events = events;
	}

	get size(): number {
		return this.#peers.size;
	}

	peerIds(): string[] {
		return [...this.#peers.keys()];
	}

	/** The peer's display name, or the start of its id. */
	name(peerId: string): string {
		return this.#peers.get(peerId)?.displayName ?? peerId.slice(0, 6);
	}

	/** Whether the peer is here and still sends the (data) producer. */
	sends(peerId: string, producerId: string): boolean {
		const peer = this.#peers.get(peerId);

		return (peer?.producers.has(producerId) || peer?.dataProducers.has(producerId)) ?? false;
	}

	/** A peer that joined; one already known keeps its name. */
	add(peerId: string, metadata: Record<string, unknown> = {}): void {
		this.#peer(peerId, metadata);
	}

	addProducer(info: ProducerInfo): void {
		this.#peer(info.peerId).producers.set(info.producerId, info);
	}

	addDataProducer(info: DataProducerInfo): void {
		this.#peer(info.peerId).dataProducers.set(info.dataProducerId, info);
	}

	setPaused(peerId: string, producerId: string, paused: boolean): void {
		const info = this.#peers.get(peerId)?.producers.get(producerId);

		if (info) info.paused = paused;
	}

	/** Makes the peer what the server says it is now (after a rejoin): what it no longer sends is gone. */
	sync(info: PeerInfo): void {
		const peer = this.#peer(info.peerId, info.metadata);
		const live = new Set(info.producers.map((p) => p.producerId));

		for (const producerId of [...peer.producers.keys()]) if (!live.has(producerId)) this.removeProducer(producerId, 'gone after rejoin');
		for (const producer of info.producers) peer.producers.set(producer.producerId, producer);

		const liveData = new Set(info.dataProducers.map((d) => d.dataProducerId));

		for (const id of [...peer.dataProducers.keys()]) if (!liveData.has(id)) this.removeDataProducer(id);
		for (const dataProducer of info.dataProducers) peer.dataProducers.set(dataProducer.dataProducerId, dataProducer);
	}

	remove(peerId: string, reason: string): void {
		if (this.#peers.delete(peerId)) this.#events.peerGone(peerId, reason);
	}

	removeProducer(producerId: string, reason: string): void {
		for (const peer of this.#peers.values()) peer.producers.delete(producerId);
		this.#events.producerGone(producerId, reason);
	}

	removeDataProducer(dataProducerId: string): void {
		for (const peer of this.#peers.values()) peer.dataProducers.delete(dataProducerId);
		this.#events.dataProducerGone(dataProducerId);
	}

	/** Forgets everyone without reporting it (the call closes all it consumed itself). */
	clear(): void {
		this.#peers.clear();
	}

	state(): RemotePeerState[] {
		return [...this.#peers.values()].map((p) => ({
			peerId: p.peerId,
			displayName: p.displayName,
			producers: [...p.producers.values()].map((pr) => ({
				producerId: pr.producerId,
				kind: pr.kind,
				source: sourceOf(pr.metadata, pr.kind),
				paused: pr.paused
			}))
		}));
	}

	#peer(peerId: string, metadata: Record<string, unknown> = {}): RemotePeer {
		let peer = this.#peers.get(peerId);

		if (!peer) {
			peer = { peerId, displayName: nameOf(metadata, peerId), producers: new Map(), dataProducers: new Map() };
			this.#peers.set(peerId, peer);
		}

		return peer;
	}
}
