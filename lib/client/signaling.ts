// The client's side of protoo signaling: requests that fail at once when the
// WebSocket is down (protoo-client would wait ~20 s for its timeout), the
// server's notifications as a typed union, and the heartbeat that keeps the
// peer from timing out on the server.
//
// It holds a protoo-client Peer made by the caller (the browser client with
// the native WebSocket, the Node tests with WebSocket-Node), and needs no DOM.

import type { Peer } from 'protoo-client';
import type { Notification, RequestMethod, RequestParams, Responses } from '../protocol/methods.js';
import { asNotification, request } from '../protocol/request.js';

/** How often a heartbeat is sent; the server drops peers silent for PEER_TIMEOUT (60 s by default). */
const HEARTBEAT_MS = 20_000;

export interface SignalingEvents {
	/** The WebSocket (re)opened. */
	open(): void;
	/** The WebSocket dropped; protoo-client is retrying. */
	disconnected(): void;
	/** A (re)connection attempt failed. */
	failed(attempt: number): void;
	/** Closed for good: by us, by the server (close code 4000) or after the last retry. */
	closed(): void;
	notification(notification: Notification): void;
	/** A background request (the heartbeat) failed. */
	error(where: string, error: unknown): void;
}

/** An error response of the server (its errorCode), or a request that never got one (code 0). */
export interface RequestFailure extends Error {
	code: number;
}

export function errorCode(error: unknown): number | undefined {
	const code = (error as Partial<RequestFailure> | undefined)?.code;

	return typeof code === 'number' ? code : undefined;
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function notConnected(method: string, why: string): RequestFailure {
	return Object.assign(new Error(`${method}: ${why}`), { code: 0 });
}

export class Signaling {
	readonly #peer: Peer;
	readonly #events: SignalingEvents;
	/** Rejecters of the requests in flight, called when the WebSocket drops. */
	readonly #inFlight = new Set<(error: Error) => void>();
	#heartbeat: ReturnType<typeof setInterval> | undefined;

	constructor(peer: Peer, events: SignalingEvents) {
		this.#peer = peer;
		peer.on('open', () => events.open());
		peer.on('disconnected', () => {
			this.#failInFlight('connection lost');
			events.disconnected();
		});
		peer.on('failed', (attempt) => events.failed(attempt));
		peer.on('close', () => {
			this.#failInFlight('connection closed');
			this.stopHeartbeat();
			events.closed();
		});
		peer.on('notification', (notification) => events.notification(asNotification(notification)));
		peer.on('request', (_request, _accept, reject) => reject(405, 'the client takes no requests'));
		this.#events = events;
	}

	get connected(): boolean {
		return this.#peer.connected;
	}

	get closed(): boolean {
		return this.#peer.closed;
	}

	/** Sends a request; rejects at once (code 0) when not connected or when the connection drops before the answer. */
	async request<M extends RequestMethod>(method: M, data: RequestParams<M>): Promise<Responses[M]> {
		if (!this.connected) throw notConnected(method, 'not connected');

		let lost!: (error: Error) => void;
		const dropped = new Promise<never>((_, reject) => (lost = (error) => reject(notConnected(method, error.message))));

		this.#inFlight.add(lost);
		try {
			return await Promise.race([request(this.#peer, method, data), dropped]);
		} finally {
			this.#inFlight.delete(lost);
		}
	}

	/** Sends a request and does not wait for its answer (e.g. leaveRoom while the page goes away). */
	send<M extends RequestMethod>(method: M, data: RequestParams<M>): void {
		if (this.connected) request(this.#peer, method, data).catch(() => undefined);
	}

	startHeartbeat(): void {
		this.#heartbeat ??= setInterval(() => {
			if (this.connected) this.request('heartbeat', {}).catch((error: unknown) => this.#events.error('heartbeat', error));
		}, HEARTBEAT_MS);
	}

	stopHeartbeat(): void {
		clearInterval(this.#heartbeat);
		this.#heartbeat = undefined;
	}

	close(): void {
		this.stopHeartbeat();
		this.#peer.close();
	}

	#failInFlight(why: string): void {
		for (const reject of this.#inFlight) reject(new Error(why));
		this.#inFlight.clear();
	}
}
