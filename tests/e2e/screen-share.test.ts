// E2E 2: three peers; one shares its screen. The two others receive it as a
// separate video (its own producer, metadata {source: 'screen'}) next to the
// sharer's camera; stopping the share reaches them as producerClosed and ends
// the screen track on their side.
//
// The share is started by clicking the page's "Share screen" button (a real
// user gesture), which calls getDisplayMedia; headless Chromium with
// --use-fake-ui-for-media-stream and --use-fake-device-for-media-stream
// answers it with its fake screen source. The client falls back to a canvas
// captureStream track only where getDisplayMedia fails; the test logs which
// one ran. Chromium has VP9, so the share goes out as VP9 SVC (L1T3) and
// the viewers consume it as an 'svc' consumer.

import { browserSuite } from '../helpers/browser/suite.js';
import { Call } from '../helpers/browser/call.js';
import { waitFor } from '../helpers/wait.js';
import { describeInbound, describeOutbound, inboundWindows, outboundWindows, sampleWindow } from '../helpers/browser/metrics.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';

const WINDOW_SECONDS = 6;

const serial = browserSuite();

serial('a screen share reaches the two other peers as a separate video and ends there when stopped', async (t) => {
	t.timeout(110_000);

	const call = await Call.start(t.context.site);

	t.teardown(() => call.close());
	t.log(`server listener: ${call.listenerKind}`);

	const media = { width: 320, height: 240, fps: 15, fakeFps: 15 };
	const [sharer, ...viewers] = await call.addPeers(['sharer', 'viewer1', 'viewer2'], media);

	if (!sharer || viewers.length !== 2) throw new Error('peers did not start');
	await call.mediaFlowing();

	const sharerId = (await sharer.state()).peerId;

	// Start: a click on the button, as a person would.
	await sharer.page.click('#share');

	const screen = await waitFor(
		async () => (await sharer.state()).producers.find((p) => p.source === 'screen'),
		{ timeout: 15_000, what: 'the screen producer' }
	);

	t.log(`screen share captured with ${screen.capture} (${screen.settings?.width}x${screen.settings?.height} at ${screen.settings?.frameRate} fps)`);
	t.truthy(screen.capture, 'the client says how it captured the screen');
	// Chromium and the router both have VP9 profile 0: one full-resolution SVC stream with temporal layers.
	t.log(`screen producer: ${screen.codec} ${screen.encodings.join(',')}`);
	t.is(screen.codec, 'video/VP9', 'the screen goes out as VP9');
	t.deepEqual(screen.encodings, ['L1T3'], 'one stream with three temporal layers');

	// Each viewer gets a newProducer and consumes the screen as a video of its own, decoding frames.
	await Promise.all(
		viewers.map((viewer) =>
			waitFor(
				async () => {
					const stats = await viewer.stats();

					return stats.inbound.some((s) => s.producerId === screen.producerId && (s.framesDecoded ?? 0) > 0);
				},
				{ timeout: 20_000, interval: 500, what: `${viewer.name} to decode the screen share` }
			)
		)
	);

	const machine = startMachineMeter();
	const samples = await sampleWindow([sharer, ...viewers], WINDOW_SECONDS, 1000);

	t.log(machineNote(machine.stop()));
	const names = await call.names();

	for (const w of outboundWindows(sharer.name, samples.get(sharer.name) ?? [])) t.log(describeOutbound(w));

	for (const viewer of viewers) {
		const state = await viewer.state();
		const notified = state.events.find((e) => e.type === 'newProducer' && (e.data as { producerId?: string }).producerId === screen.producerId);
		const fromSharer = inboundWindows(viewer.name, samples.get(viewer.name) ?? []).filter((w) => w.peerId === sharerId);
		const screenWindow = fromSharer.find((w) => w.source === 'screen');
		const cameraWindow = fromSharer.find((w) => w.source === 'camera');

		for (const w of fromSharer) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));

		t.truthy(notified, `${viewer.name} got newProducer for the screen`);
		t.deepEqual(
			(notified?.data as { metadata?: unknown } | undefined)?.metadata,
			{ source: 'screen', capture: screen.capture },
			`${viewer.name}: the producer carries the screen metadata`
		);
		t.truthy(screenWindow, `${viewer.name} receives the screen`);
		t.truthy(cameraWindow, `${viewer.name} still receives the sharer's camera`);
		t.not(screenWindow?.consumerId, cameraWindow?.consumerId, 'screen and camera are separate consumers');
		t.is(state.consumers.filter((c) => c.peerId === sharerId && c.kind === 'video').length, 2, `${viewer.name}: two videos from the sharer`);
		const screenConsumer = state.consumers.find((c) => c.producerId === screen.producerId);

		t.like(screenConsumer, { type: 'svc', codec: 'video/VP9' }, `${viewer.name}: the screen is consumed as VP9 SVC`);
		if (screenWindow) {
			t.true(screenWindow.intervals >= WINDOW_SECONDS - 1, `${viewer.name}: screen sampled over ${screenWindow.intervals} intervals`);
			t.true(screenWindow.fps.min > 0, `${viewer.name}: screen frames decoded in every interval (min ${screenWindow.fps.min.toFixed(1)}/s)`);
			t.true(screenWindow.width.min >= 640, `${viewer.name}: screen at ${screenWindow.width.min}x${screenWindow.height.min}`);
			t.true(screenWindow.lossPct < 1, `${viewer.name}: screen loss ${screenWindow.lossPct.toFixed(2)} %`);
		}
		if (cameraWindow) t.true(cameraWindow.fps.min > 0, `${viewer.name}: the camera keeps flowing during the share`);
	}

	// Stop: producerClosed reaches the viewers, their screen consumer closes and its track ends.
	const stopAt = Date.now();

	await sharer.page.click('#unshare');

	for (const viewer of viewers) {
		const closed = await waitFor(
			async () => {
				const state = await viewer.state();
				const event = state.events.find((e) => e.type === 'producerClosed' && (e.data as { producerId?: string }).producerId === screen.producerId);
				const consumer = state.closedConsumers.find((c) => c.producerId === screen.producerId);

				return event && consumer ? { event, consumer, stillConsumed: state.consumers.some((c) => c.producerId === screen.producerId) } : undefined;
			},
			{ timeout: 10_000, what: `${viewer.name} to get producerClosed for the screen` }
		);
		const tiles = await viewer.page.locator(`[data-consumer-id="${closed.consumer.consumerId}"]`).count();

		t.log(`${viewer.name}: producerClosed ${closed.event.at - stopAt} ms after the stop click; screen track ${closed.consumer.trackState}`);
		t.is(closed.consumer.reason, 'producerClosed');
		t.is(closed.consumer.trackState, 'ended', `${viewer.name}: the screen track ended`);
		t.false(closed.stillConsumed, `${viewer.name}: no consumer left for the screen`);
		t.is(tiles, 0, `${viewer.name}: the screen video is gone from the page`);
	}

	const after = await sharer.state();

	t.false(
		after.producers.some((p) => p.source === 'screen'),
		'the sharer has no screen producer any more'
	);
	t.true(
		after.producers.some((p) => p.source === 'camera'),
		'the sharer still sends its camera'
	);
});
