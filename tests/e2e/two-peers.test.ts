// E2E 1: two Chromium peers, audio and video both ways. Each must receive the
// other's camera at 640x480 or better and at 25 fps or more, decoding frames
// in every interval of the window with under 1 % of packets lost, and keep
// receiving audio samples.
//
// Chromium's fake camera runs at 20 fps unless told otherwise: the peers start
// it with --use-fake-device-for-media-stream=fps=30 and ask getUserMedia for
// 640x480 at 30 fps.

import { browserSuite } from '../helpers/browser/suite.js';
import { Call } from '../helpers/browser/call.js';
import { waitFor } from '../helpers/wait.js';
import { describeInbound, describeOutbound, inboundWindows, outboundWindows, sampleWindow, transportRates } from '../helpers/browser/metrics.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';

const WINDOW_SECONDS = 8;

const serial = browserSuite();

serial('two peers send and receive 640x480 video at >= 25 fps and audio, both ways', async (t) => {
	t.timeout(110_000);

	const call = await Call.start(t.context.site);

	t.teardown(() => call.close());
	t.log(`server listener: ${call.listenerKind}`);

	const media = { width: 640, height: 480, fps: 30, fakeFps: 30 };
	const [alice, bob] = await call.addPeers(['alice', 'bob'], media);

	if (!alice || !bob) throw new Error('peers did not start');

	const aliceState = await alice.state();
	const camera = aliceState.producers.find((p) => p.source === 'camera');

	t.log(`fake camera delivers ${camera?.settings?.width}x${camera?.settings?.height} at ${camera?.settings?.frameRate} fps (asked 640x480 at 30)`);

	await call.mediaFlowing();

	// Bandwidth estimation starts low: wait (with a deadline) until each side
	// receives the full resolution before measuring.
	await Promise.all(
		[alice, bob].map((peer) =>
			waitFor(
				async () => {
					const video = (await peer.stats()).inbound.find((s) => s.kind === 'video');

					return video && (video.frameWidth ?? 0) >= 640 && (video.frameHeight ?? 0) >= 480 && (video.framesPerSecond ?? 0) >= 25;
				},
				{ timeout: 30_000, interval: 500, what: `${peer.name} to receive 640x480 at 25 fps` }
			)
		)
	);

	const machine = startMachineMeter();
	const samples = await sampleWindow([alice, bob], WINDOW_SECONDS, 1000);

	t.log(machineNote(machine.stop()));
	const names = await call.names();

	for (const peer of [alice, bob]) {
		const peerSamples = samples.get(peer.name) ?? [];
		const inbound = inboundWindows(peer.name, peerSamples);
		const video = inbound.filter((w) => w.kind === 'video');
		const audio = inbound.filter((w) => w.kind === 'audio');
		const rates = transportRates(peerSamples);

		for (const w of outboundWindows(peer.name, peerSamples)) t.log(describeOutbound(w));
		for (const w of inbound) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));
		t.log(`${peer.name}: send ${rates.sendKbps.toFixed(0)} kbit/s, receive ${rates.recvKbps.toFixed(0)} kbit/s`);

		t.is(video.length, 1, `${peer.name} receives one video`);
		t.is(audio.length, 1, `${peer.name} receives one audio`);

		for (const w of video) {
			t.true(w.intervals >= WINDOW_SECONDS - 1, `${peer.name}: video sampled over ${w.intervals} intervals`);
			t.true(w.width.min >= 640 && w.height.min >= 480, `${peer.name}: video ${w.width.min}x${w.height.min} >= 640x480 throughout`);
			t.true(w.fps.avg >= 25, `${peer.name}: ${w.fps.avg.toFixed(1)} fps >= 25 over the window`);
			t.true(w.fps.min >= 15, `${peer.name}: at least 15 frames decoded in every second (min ${w.fps.min.toFixed(1)})`);
			t.true(w.lossPct < 1, `${peer.name}: video loss ${w.lossPct.toFixed(2)} % < 1 %`);
			t.is(w.freezes, 0, `${peer.name}: no video freeze`);
		}
		for (const w of audio) {
			t.true(w.intervals >= WINDOW_SECONDS - 1, `${peer.name}: audio sampled over ${w.intervals} intervals`);
			t.true(w.packetsPerSecond.min > 0, `${peer.name}: audio packets arrive in every interval`);
			// 48 kHz audio: samples keep being received (played out) in every interval.
			t.true(w.samplesPerSecond.min >= 40_000, `${peer.name}: ${w.samplesPerSecond.min.toFixed(0)} audio samples/s at least`);
			t.true(w.lossPct < 1, `${peer.name}: audio loss ${w.lossPct.toFixed(2)} % < 1 %`);
		}
	}
});
