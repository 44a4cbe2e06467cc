// E2E 3: three peers; one tab dies abruptly (its renderer is killed through
// CDP Page.crash: no unload handler runs, no leaveRoom is sent, the socket
// just goes). The two others get peerLeft once the server's reconnect grace
// expires, and the media between them keeps flowing, without a gap, across
// the whole episode.

import { browserSuite } from '../helpers/browser/suite.js';
import { Call } from '../helpers/browser/call.js';
import { waitFor } from '../helpers/wait.js';
import { describeInbound, inboundWindows, startSampling } from '../helpers/browser/metrics.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';

/** Short, so the test does not wait 30 s for the default grace. */
const RECONNECT_GRACE = 3;

const serial = browserSuite();

serial('when a tab dies, the others get peerLeft and their media keeps flowing', async (t) => {
	t.timeout(110_000);

	const call = await Call.start(t.context.site, { server: { reconnectGrace: RECONNECT_GRACE } });

	t.teardown(() => call.close());
	t.log(`server listener: ${call.listenerKind}; reconnectGrace ${RECONNECT_GRACE} s`);

	const media = { width: 320, height: 240, fps: 15, fakeFps: 15 };
	const [alice, bob, carol] = await call.addPeers(['alice', 'bob', 'carol'], media);

	if (!alice || !bob || !carol) throw new Error('peers did not start');
	await call.mediaFlowing();

	const names = await call.names();
	const carolId = (await carol.state()).peerId;
	const survivors = [alice, bob];

	// Sample alice and bob before, during and after carol's end.
	const machine = startMachineMeter();
	const sampling = startSampling(survivors, 500);

	t.teardown(() => sampling.stop());

	await sampling.extend(3000); // 3 s of window before the crash

	const crashAt = Date.now();

	await carol.crash();
	t.log(`carol's renderer killed`);

	const leftAt = await Promise.all(
		survivors.map((peer) =>
			waitFor(
				async () => (await peer.state()).events.find((e) => e.type === 'peerLeft' && (e.data as { peerId?: string }).peerId === carolId)?.at,
				{ timeout: RECONNECT_GRACE * 1000 + 20_000, interval: 250, what: `${peer.name} to get peerLeft for carol` }
			)
		)
	);

	for (const [i, at] of leftAt.entries()) t.log(`${survivors[i]?.name} got peerLeft ${at - crashAt} ms after the crash (grace ${RECONNECT_GRACE} s)`);

	await sampling.extend(3000); // and 3 s after peerLeft

	const samples = await sampling.stop();

	t.log(machineNote(machine.stop()));

	for (const peer of survivors) {
		const state = await peer.state();
		const windows = inboundWindows(peer.name, samples.get(peer.name) ?? []).filter((w) => w.peerId !== carolId);

		for (const w of windows) {
			t.log(`${describeInbound(w, names.get(w.peerId) ?? w.peerId)}; slowest interval ends ${((w.slowestAt - crashAt) / 1000).toFixed(1)} s from the crash`);
		}

		t.is(windows.length, 2, `${peer.name} keeps receiving the other survivor's audio and video`);
		for (const w of windows) {
			t.true(w.seconds >= 6, `${peer.name}: ${w.source} window spans ${w.seconds.toFixed(1)} s around the crash`);
			t.true(w.packetsPerSecond.min > 0, `${peer.name}: ${w.source} packets in every 0.5 s interval`);
			if (w.kind === 'video') {
				// No gap: frames are decoded in every half second. (Chromium may still count
				// a short freeze, a frame late by 150 ms or more, on a loaded machine: logged above.)
				t.true(w.fps.min > 0, `${peer.name}: video frames decoded in every interval (min ${w.fps.min.toFixed(1)}/s)`);
				t.true(w.freezeSeconds < 1, `${peer.name}: under 1 s frozen in all (${w.freezeSeconds.toFixed(2)} s)`);
			} else {
				t.true(w.samplesPerSecond.min >= 40_000, `${peer.name}: audio samples in every interval (min ${w.samplesPerSecond.min.toFixed(0)}/s)`);
			}
			t.true(w.lossPct < 1, `${peer.name}: ${w.source} loss ${w.lossPct.toFixed(2)} %`);
		}
		t.false(state.peers.some((p) => p.peerId === carolId), `${peer.name}: carol is no longer listed`);
		t.false(state.consumers.some((c) => c.peerId === carolId), `${peer.name}: no consumer left for carol`);
		t.true(
			state.events.some((e) => e.type === 'producerClosed' && (e.data as { peerId?: string }).peerId === carolId),
			`${peer.name}: carol's producers were closed`
		);
	}

	if (call.server) {
		const room = [...call.server.rooms.rooms][0];

		t.is(room?.peerCount, 2, 'the server holds two peers');
	}
});
