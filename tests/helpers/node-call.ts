// The browser client's Call (lib/client/call.ts) run in Node: protoo-client
// over WebSocket-Node, mediasoup-client on FakeHandler, fake capture tracks.

import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import protooClient from 'protoo-client';
import { Call, type CallOptions, type CallParts, type Track } from '../../lib/client/call.js';
import { fakeDevice } from './client.js';

export const CALL_OPTIONS: CallOptions = {
	serverUrl: '',
	room: 'create',
	displayName: 'alice',
	audio: true,
	video: true,
	width: 640,
	height: 480,
	frameRate: 30,
	maxVideoKbps: 0,
	forceTcp: false,
	iceTransportPolicy: 'all',
	dtlsRole: 'auto',
	audioProcessing: true,
	leaveOnUnload: false
};

export function fakeTrack(kind: 'audio' | 'video'): Track {
	return new FakeMediaStreamTrack({ kind }) as unknown as Track;
}

/** A Call like the browser's, over `url`, reconnecting quickly and for a while. */
export function nodeCall(url: string, options: Partial<CallOptions> = {}): Call {
	return new Call({ ...CALL_OPTIONS, serverUrl: url, ...options }, nodeCallParts(url));
}

/** What a Call needs in Node: a quickly reconnecting protoo-client Peer, a FakeHandler device, fake tracks. */
export function nodeCallParts(url: string): CallParts {
	return {
		connect: () => new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 100, factor: 1, minTimeout: 100, maxTimeout: 100 } })),
		device: fakeDevice(),
		capture: async ({ audio, video }) =>
			new Map<string, Track>([...(audio ? [['mic', fakeTrack('audio')] as const] : []), ...(video ? [['camera', fakeTrack('video')] as const] : [])])
	};
}
