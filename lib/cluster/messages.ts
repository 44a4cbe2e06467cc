// What nodes send each other over their Redis channels. Every message names
// the connection (the entry node's id for it) it is about.

import type { ClientInfo } from '../listener/types.js';

/** Entry node -> hosting node: one request of a client connection. */
export interface RelayRequest {
	kind: 'request';
	from: string;
	id: number;
	connection: string;
	client: ClientInfo;
	method: string;
	data: unknown;
}

/** Entry node -> hosting node: the client connection is gone. */
export interface RelayClosed {
	kind: 'closed';
	from: string;
	connection: string;
}

/** Hosting node -> entry node: the answer to a RelayRequest. */
export interface RelayResponse {
	kind: 'response';
	id: number;
	outcome: RelayOutcome;
}

export type RelayOutcome =
	| { ok: true; data: unknown }
	| { ok: false; code: number; message: string }
	/** The room is hosted by yet another node: ask it. */
	| { ok: false; redirect: string };

/** Hosting node -> entry node: a notification for the client. */
export interface RelayNotification {
	kind: 'notification';
	connection: string;
	method: string;
	data: unknown;
}

/** Hosting node -> entry node: end the client connection (replaced, timed out, shutdown). */
export interface RelayEnd {
	kind: 'end';
	connection: string;
	reason: string;
}

export type RelayMessage = RelayRequest | RelayClosed | RelayResponse | RelayNotification | RelayEnd;
