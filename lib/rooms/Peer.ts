// One participant of a room and the mediasoup objects it owns. A peer
// outlives its WebSocket: while it is disconnected (channel undefined) its
// transports, producers and consumers wait for rejoinRoom.

import type * as ms from 'mediasoup/types';
import type { OutgoingNotification } from '../protocol/messages.js';
import type { PeerChannel } from '../protocol/ProtooConnection.js';
import type { DataProducerInfo, Notifications, PeerInfo, ProducerInfo } from '../protocol/methods.js';
import type { Grants, JoinClaims } from '../auth/grants.js';
import { randomId, secretsEqual } from '../secrets.js';

/** What Peer.keep holds: a (data) producer or a (data) consumer. */
interface MediaObject {
	readonly id: string;
	close(): void;
	readonly observer: { once(event: 'close', listener: () => void): unknown };
}

export type Direction = 'send' | 'recv';

export interface TransportAppData extends ms.AppData {
	direction: Direction;
	connected: boolean;
}

export interface ProducerAppData extends ms.AppData {
	peerId: string;
	transportId: string;
	metadata: Record<string, unknown>;
}

export class Peer {
	readonly id = randomId(9);
	readonly metadata: Record<string, unknown>;
	/** The join token's subject; undefined with AUTH_MODE=none. */
	readonly identity: string | undefined;
	/** What the peer may do (every grant with AUTH_MODE=none): the one place other code asks. */
	readonly grants: Grants;
	readonly transports = new Map<string, ms.WebRtcTransport<TransportAppData>>();
	readonly producers = new Map<string, ms.Producer<ProducerAppData>>();
	readonly consumers = new Map<string, ms.Consumer>();
	readonly dataProducers = new Map<string, ms.DataProducer<ProducerAppData>>();
	readonly dataConsumers = new Map<string, ms.DataConsumer>();
	#rtpCapabilities: ms.RtpCapabilities | undefined;
	#reconnectToken = randomId(24);
	#channel: PeerChannel | undefined;
	#graceTimer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(metadata: Record<string, unknown>, channel: PeerChannel, claims: JoinClaims) {
		this.metadata = metadata;
		this.identity = claims.identity;
		this.grants = claims.grants;
		this.#channel = channel;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The capabilities of the peer's last successful consume (mediasoup validated them then): later consumes may leave them out. */
	get rtpCapabilities(): ms.RtpCapabilities | undefined {
		return this.#rtpCapabilities;
	}

	rememberCapabilities(rtpCapabilities: ms.RtpCapabilities): void {
		this.#rtpCapabilities = rtpCapabilities;
	}

	/**
	 * Keeps a mediasoup object just made for this peer in one of its maps
	 * until the object closes. The peer may have left while the worker made
	 * it: then it is closed at once and false is returned.
	 */
	keep<T extends MediaObject>(objects: Map<string, T>, object: T): boolean {
		if (this.#closed) {
			object.close();

			return false;
		}
		objects.set(object.id, object);
		object.observer.once('close', () => objects.delete(object.id));

		return true;
	}

	/** The live connection, or undefined while the peer is disconnected. */
	get channel(): PeerChannel | undefined {
		return this.#channel;
	}

	/** Handed to the client at join and at each rejoin; proves ownership at the next rejoin. */
	get reconnectToken(): string {
		return this.#reconnectToken;
	}

	/** A token seen on the wire once is not good for a second takeover. */
	rotateReconnectToken(): string {
		this.#reconnectToken = randomId(24);

		return this.#reconnectToken;
	}

	tokenMatches(token: string): boolean {
		return secretsEqual(token, this.#reconnectToken);
	}

	/** Marks the peer disconnected and runs onExpire after graceSeconds unless it is reattached. */
	detach(graceSeconds: number, onExpire: () => void): void {
		this.#channel = undefined;
		clearTimeout(this.#graceTimer);
		this.#graceTimer = setTimeout(onExpire, graceSeconds * 1000);
	}

	attach(channel: PeerChannel): void {
		clearTimeout(this.#graceTimer);
		this.#graceTimer = undefined;
		this.#channel = channel;
	}

	notify: PeerChannel['notify'] = (method, data) => {
		this.#channel?.notify(method, data);
	};

	deliver(outgoing: OutgoingNotification): void {
		this.#channel?.deliver(outgoing);
	}

	transport(direction: Direction): ms.WebRtcTransport<TransportAppData> | undefined {
		for (const transport of this.transports.values()) if (transport.appData.direction === direction) return transport;

		return undefined;
	}

	producerInfos(): ProducerInfo[] {
		return [...this.producers.values()].map(producerInfo);
	}

	dataProducerInfos(): DataProducerInfo[] {
		return [...this.dataProducers.values()].map(dataProducerInfo);
	}

	info(): PeerInfo {
		return { ...this.summary(), producers: this.producerInfos(), dataProducers: this.dataProducerInfos() };
	}

	/** Who the peer is, as peerJoined tells it (identity absent without join tokens). */
	summary(): Notifications['peerJoined'] {
		return { peerId: this.id, ...(this.identity === undefined ? {} : { identity: this.identity }), metadata: this.metadata };
	}

	/** Closes every mediasoup object of the peer (transports close their producers and consumers). */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		clearTimeout(this.#graceTimer);
		for (const transport of this.transports.values()) transport.close();
		this.transports.clear();
		this.producers.clear();
		this.consumers.clear();
		this.dataProducers.clear();
		this.dataConsumers.clear();
	}
}

export function producerInfo(producer: ms.Producer<ProducerAppData>): ProducerInfo {
	return {
		producerId: producer.id,
		peerId: producer.appData.peerId,
		kind: producer.kind,
		metadata: producer.appData.metadata,
		paused: producer.paused
	};
}

export function dataProducerInfo(dataProducer: ms.DataProducer<ProducerAppData>): DataProducerInfo {
	return {
		dataProducerId: dataProducer.id,
		peerId: dataProducer.appData.peerId,
		label: dataProducer.label,
		protocol: dataProducer.protocol,
		metadata: dataProducer.appData.metadata
	};
}
