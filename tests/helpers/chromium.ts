// Debian's Chromium as the tests run it (headless, fake camera and
// microphone, no background network calls), without loading playwright: the
// network lab wraps this binary, and suites decide at load time whether they
// can run at all.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined. */
export function missingPrerequisite(): string | undefined {
	if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
	if (!existsSync(path.join(ROOT, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker')) && !process.env.MEDIASOUP_WORKER_BIN)
		return 'no mediasoup worker binary (node_modules/mediasoup/worker/out/Release/mediasoup-worker)';

	return undefined;
}

export function chromiumArgs(fakeFps: number): string[] {
	return [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		// Three fake cameras, so a test can switch devices; the first is the default. (fake_device_1 is a
		// 16-bit depth camera whose frames WebRTC does not encode: framesEncoded stops. fake_device_2 is MJPEG.)
		`--use-fake-device-for-media-stream=fps=${fakeFps},device-count=3`,
		'--use-fake-ui-for-media-stream',
		// Remote audio is pulled (and counted in totalSamplesReceived) only while it plays.
		'--autoplay-policy=no-user-gesture-required',
		// Background tabs must not be throttled: every peer is a visible page of its own browser anyway.
		'--disable-background-timer-throttling',
		'--disable-renderer-backgrounding',
		'--disable-backgrounding-occluded-windows',
		// Extra flags for experiments, space-separated.
		...(process.env.VCALL_E2E_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? [])
	];
}
