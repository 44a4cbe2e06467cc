// The call in the browser: a Call (call.ts) over the native WebSocket and
// WebRTC, with the camera and microphone from getUserMedia, a screen share,
// leaveRoom when the page goes away, and a way for tests to drop the
// WebSocket as a network failure would.

import { Device } from 'mediasoup-client';
import { Peer, WebSocketTransport } from 'protoo-client';
import type { ScreenShareResult, Source } from './api.js';
import { Call, type CallOptions } from './call.js';
import { canvasTrack, captureCamera } from './capture.js';
import { errorMessage } from './signaling.js';
import { wsControl } from './websocket-shim.js';

export type { CallOptions, ConsumerEntry, ProducerEntry } from './call.js';

/** protoo-client's retry policy for (re)connecting: quick first, about a minute in all. */
const RETRY = { retries: 40, factor: 1.5, minTimeout: 250, maxTimeout: 2000, randomize: false };

export class CallClient extends Call {
	/**
	 * `preview`: the tracks the pre-join screen already captured (taken over
	 * instead of opening the devices again).
	 */
	constructor(options: CallOptions, preview: Map<Source, MediaStreamTrack> = new Map()) {
		super(options, {
			connect: () => new Peer(new WebSocketTransport(options.serverUrl, { retry: RETRY })),
			device: new Device(),
			capture: async (sources) => {
				const tracks = new Map<Source, MediaStreamTrack>();

				for (const [source, track] of preview) {
					if (track.readyState === 'live' && (source === 'mic' ? sources.audio : sources.video)) tracks.set(source, track);
				}
				preview.clear();

				const audio = sources.audio && !tracks.has('mic');
				const video = sources.video && !tracks.has('camera');

				if (audio || video) for (const [source, track] of await captureCamera({ ...options, audio, video })) tracks.set(source, track);

				return tracks;
			}
		});
	}

	override start(): Promise<void> {
		if (this.options.leaveOnUnload) addEventListener('pagehide', () => this.leaveNow());

		return super.start();
	}

	/**
	 * Shares the screen as a second video producer ({source: 'screen'}).
	 * getDisplayMedia is called first thing, inside the caller's user gesture.
	 */
	async startScreenShare(method: 'auto' | 'display' | 'canvas' = 'auto'): Promise<ScreenShareResult> {
		if (this.localTrack('screen')) throw new Error('already sharing the screen');

		let track: MediaStreamTrack | undefined;
		let capture: ScreenShareResult['capture'] = 'getDisplayMedia';
		let fallbackReason: string | undefined;

		if (method !== 'canvas') {
			try {
				const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });

				track = stream.getVideoTracks()[0];
			} catch (error) {
				if (method === 'display') throw error;
				fallbackReason = errorMessage(error);
			}
		}
		if (!track) {
			track = canvasTrack();
			capture = 'canvas';
			fallbackReason ??= method === 'canvas' ? 'canvas requested' : 'getDisplayMedia gave no track';
		}

		// Sharpness over smoothness, as for any screen content.
		track.contentHint = 'detail';

		const producerId = await this.produceTrack(track, 'screen', capture);

		return { producerId, capture, ...(fallbackReason ? { fallbackReason } : {}) };
	}

	/** Drops the WebSocket as a network failure would; reconnection attempts fail for downMs. */
	dropWebSocket(downMs = 0): void {
		wsControl.blockedUntil = Date.now() + downMs;
		this.log('dropWebSocket', { downMs });
		wsControl.current?.close();
	}
}
