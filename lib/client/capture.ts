// Capture in the browser: the camera and microphone, and a screen share
// (getDisplayMedia, or a moving canvas where the browser has none, as in
// headless tests).

import type { Source } from './api.js';
import type { CallOptions } from './call.js';

export type CameraOptions = Pick<CallOptions, 'audio' | 'video' | 'width' | 'height' | 'frameRate' | 'audioProcessing' | 'audioDeviceId' | 'videoDeviceId'>;

const device = (id: string | undefined) => (id ? { deviceId: { exact: id } } : {});

/** The microphone and camera tracks `options` asks for. */
export async function captureCamera(options: CameraOptions): Promise<Map<Source, MediaStreamTrack>> {
	const { audio, video, audioProcessing } = options;
	const stream = await navigator.mediaDevices.getUserMedia({
		audio: audio ? { echoCancellation: audioProcessing, noiseSuppression: audioProcessing, autoGainControl: audioProcessing, ...device(options.audioDeviceId) } : false,
		video: video ? { width: options.width, height: options.height, frameRate: options.frameRate, ...device(options.videoDeviceId) } : false
	});
	const tracks = new Map<Source, MediaStreamTrack>();
	const mic = stream.getAudioTracks()[0];
	const camera = stream.getVideoTracks()[0];

	if (mic) tracks.set('mic', mic);
	if (camera) tracks.set('camera', camera);

	return tracks;
}

/** A moving test pattern, for a screen share where getDisplayMedia is not available. */
export function canvasTrack(width = 1280, height = 720, fps = 15): MediaStreamTrack {
	const canvas = document.createElement('canvas');

	canvas.width = width;
	canvas.height = height;

	const ctx = canvas.getContext('2d');

	if (!ctx) throw new Error('no 2d canvas context');

	const started = performance.now();
	const draw = (): void => {
		const t = (performance.now() - started) / 1000;

		ctx.fillStyle = '#20262e';
		ctx.fillRect(0, 0, width, height);
		ctx.fillStyle = '#e8eef4';
		ctx.font = '48px sans-serif';
		ctx.fillText(`vcall canvas screen share  ${t.toFixed(1)} s`, 60, 120);
		ctx.fillStyle = '#3d9be9';
		ctx.fillRect(60 + ((t * 200) % (width - 220)), 300, 160, 160);
	};

	draw();

	const stream = canvas.captureStream(fps);
	const track = stream.getVideoTracks()[0];

	if (!track) throw new Error('canvas.captureStream gave no track');

	const timer = setInterval(draw, 1000 / fps);

	track.addEventListener('ended', () => clearInterval(timer));
	// track.stop() does not fire 'ended': poll for it too.
	const watch = setInterval(() => {
		if (track.readyState === 'ended') {
			clearInterval(timer);
			clearInterval(watch);
		}
	}, 1000);

	return track;
}
