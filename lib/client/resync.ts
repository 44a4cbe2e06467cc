// What to do after rejoinRoom: the server's answer says which of our
// transports, producers and consumers survived the drop, and who is in the
// room now. planResync compares that with what we hold and lists the fixes;
// applyResync carries them out, in an order that keeps the server's object
// counts bounded (close first, then create).
//
// The plan is a pure function of the two states, so it reads (and is tested)
// on its own; the Node tests run both against the real server.

import type { PeerInfo, RejoinResponse } from '../protocol/methods.js';
import type { Direction } from './media.js';

/** What the client holds when the rejoin answer arrives. */
export interface LocalSnapshot {
	transports: { transportId: string; direction: Direction }[];
	producers: { producerId: string }[];
	consumers: { consumerId: string }[];
	dataProducers: { dataProducerId: string }[];
	dataConsumers: { dataConsumerId: string }[];
	/** Remote peers we know of. */
	peers: string[];
}

export interface ResyncPlan {
	/** Remote peers that left during the drop. */
	removePeers: string[];
	/** The room as it is now: its peers and their producers (consume those we have no consumer for). */
	peers: PeerInfo[];
	/** Our consumers the server closed during the drop (their producer closed, or their transport went). */
	closeLocalConsumers: string[];
	/** Consumers the server made for us whose consume answer was lost in the drop. */
	closeServerConsumers: string[];
	/** Consumers both sides have: a resumeConsumer may have been lost, resume again (idempotent). */
	resumeConsumers: string[];
	/** Producers the server made for us whose produce answer was lost. */
	closeServerProducers: string[];
	/** Our producers the server no longer has (their transport was replaced): close them, then produce the tracks again. */
	lostProducers: string[];
	/** Our data consumers the server closed (their data producer closed, or their transport went). */
	closeLocalDataConsumers: string[];
	/** Our data producers the server no longer has: forget them, then open the channels again. */
	lostDataProducers: string[];
	/** Transports the server still has: restart ICE on them (the network path may have changed). */
	restartIce: Direction[];
	/** Transports the server no longer has (or replaced): make new ones. */
	replaceTransports: Direction[];
}

export function planResync(local: LocalSnapshot, response: RejoinResponse): ResyncPlan {
	const serverTransports = new Set(response.transports.map((t) => t.transportId));
	const serverProducers = new Set(response.producers.map((p) => p.producerId));
	const serverConsumers = new Set(response.consumers.map((c) => c.consumerId));
	const serverPeers = new Set(response.peers.map((p) => p.peerId));
	const localProducers = new Set(local.producers.map((p) => p.producerId));
	const localConsumers = new Set(local.consumers.map((c) => c.consumerId));
	const replaceTransports = local.transports.filter((t) => !serverTransports.has(t.transportId)).map((t) => t.direction);
	const replaced = new Set(replaceTransports);
	const serverDataProducers = new Set(response.dataProducers.map((d) => d.dataProducerId));
	const serverDataConsumers = new Set(response.dataConsumers.map((d) => d.dataConsumerId));

	return {
		removePeers: local.peers.filter((peerId) => !serverPeers.has(peerId)),
		peers: response.peers,
		closeLocalConsumers: [...localConsumers].filter((id) => !serverConsumers.has(id)),
		// On a transport about to be replaced they go with it.
		closeServerConsumers: replaced.has('recv') ? [] : [...serverConsumers].filter((id) => !localConsumers.has(id)),
		resumeConsumers: [...localConsumers].filter((id) => serverConsumers.has(id)),
		closeServerProducers: replaced.has('send') ? [] : [...serverProducers].filter((id) => !localProducers.has(id)),
		lostProducers: [...localProducers].filter((id) => !serverProducers.has(id)),
		closeLocalDataConsumers: local.dataConsumers.map((d) => d.dataConsumerId).filter((id) => !serverDataConsumers.has(id)),
		lostDataProducers: local.dataProducers.map((d) => d.dataProducerId).filter((id) => !serverDataProducers.has(id)),
		restartIce: local.transports.filter((t) => serverTransports.has(t.transportId)).map((t) => t.direction),
		replaceTransports
	};
}

/** The operations applyResync needs (the call implements them). */
export interface ResyncTarget {
	removePeer(peerId: string, reason: string): void;
	/** Takes the peer's current producers; closes our consumers of producers it no longer has. */
	syncPeer(info: PeerInfo): void;
	closeLocalConsumer(consumerId: string, reason: string): void;
	closeLocalDataConsumer(dataConsumerId: string): void;
	dropLocalDataProducer(dataProducerId: string): void;
	closeServerObject(method: 'closeConsumer' | 'closeProducer', id: string): Promise<void>;
	resumeConsumer(consumerId: string): Promise<void>;
	dropLocalProducer(producerId: string): Promise<void>;
	restartIce(direction: Direction): Promise<void>;
	replaceTransport(direction: Direction): Promise<void>;
	/** Produces every capture track that has no producer, and opens the data channels that are not open. */
	produceMissing(): Promise<void>;
	/** Consumes every producer in `peers` we have no consumer for (does not wait for it). */
	consumeMissing(peers: PeerInfo[]): void;
}

export async function applyResync(plan: ResyncPlan, target: ResyncTarget): Promise<void> {
	const reason = 'gone after rejoin';

	for (const peerId of plan.removePeers) target.removePeer(peerId, reason);
	for (const info of plan.peers) target.syncPeer(info);
	for (const id of plan.closeLocalConsumers) target.closeLocalConsumer(id, reason);
	for (const id of plan.closeLocalDataConsumers) target.closeLocalDataConsumer(id);
	for (const id of plan.lostDataProducers) target.dropLocalDataProducer(id);
	await Promise.all([
		...plan.closeServerConsumers.map((id) => target.closeServerObject('closeConsumer', id)),
		...plan.closeServerProducers.map((id) => target.closeServerObject('closeProducer', id))
	]);
	for (const id of plan.lostProducers) await target.dropLocalProducer(id);
	for (const direction of plan.restartIce) await target.restartIce(direction);
	for (const direction of plan.replaceTransports) await target.replaceTransport(direction);
	await target.produceMissing();
	await Promise.all(plan.resumeConsumers.map((id) => target.resumeConsumer(id)));
	target.consumeMissing(plan.peers);
}
