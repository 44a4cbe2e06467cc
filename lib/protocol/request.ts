// The client side of the protocol: one typed request for any protoo-client
// peer (the browser client, the Node test client, an app), and typed
// notifications. This is the one place where the wire's JSON meets the types.

import type { types as mc } from 'mediasoup-client';
import type { Peer, ProtooNotification } from 'protoo-client';
import type { Notification, RequestMethod, RequestParams, Responses } from './methods.js';

/** Sends a request; resolves with its typed answer, rejects with protoo-client's error (its `code` is an ErrorCode). */
export function request<M extends RequestMethod>(peer: Peer, method: M, data: RequestParams<M>): Promise<Responses[M]> {
	return peer.request(method, data) as Promise<Responses[M]>;
}

/** A server notification, discriminated by method (the server sends only these). */
export function asNotification(notification: ProtooNotification): Notification {
	return { method: notification.method, data: notification.data } as Notification;
}

/** produceData's SCTP stream from mediasoup-client's (which types streamId optional; a data channel's always has one). */
export function sctpStream(parameters: mc.SctpStreamParameters): RequestParams<'produceData'>['sctpStreamParameters'] {
	const { streamId } = parameters;

	if (streamId === undefined) throw new Error('an SCTP data channel without a stream id');

	return { ...parameters, streamId };
}
