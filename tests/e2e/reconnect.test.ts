// E2E 4: a peer's WebSocket drops (the page closes it, and its reconnection
// attempts fail for DOWN_MS, as during a short network outage). protoo-client
// reconnects by itself; the client sends rejoinRoom within the grace period,
// restarts ICE on both transports with the server's new ICE parameters and
// resyncs its consumers. Outgoing and incoming media must flow again within
// 30 s of the drop, and the other peers must never see it leave.

import { browserSuite } from '../helpers/browser/suite.js';
import { Call } from '../helpers/browser/call.js';
import type { BrowserPeer } from '../helpers/browser/peer.js';
import { waitFor } from '../helpers/wait.js';
import { describeInbound, describeOutbound, inboundWindows, outboundWindows, sampleWindow } from '../helpers/browser/metrics.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';

const RECONNECT_GRACE = 20;
const DOWN_MS = 3000;
const WINDOW_SECONDS = 5;

const serial = browserSuite();

/** Counters that grow while media flows: what `peer` sends and what it decodes from each sender. */
async function flowCounters(peer: BrowserPeer): Promise<{ sent: number; received: Map<string, number> }> {
	const stats = await peer.stats();
	const sent = stats.outbound.reduce((sum, o) => sum + o.packetsSent, 0);
	const received = new Map<string, number>();

	for (const s of stats.inbound) received.set(`${s.peerId}/${s.kind}`, (received.get(`${s.peerId}/${s.kind}`) ?? 0) + (s.kind === 'video' ? (s.framesDecoded ?? 0) : s.packetsReceived));

	return { sent, received };
}

serial('after a dropped WebSocket the peer rejoins, restarts ICE and media flows again; nobody sees it leave', async (t) => {
	t.timeout(110_000);

	const call = await Call.start(t.context.site, { server: { reconnectGrace: RECONNECT_GRACE } });

	t.teardown(() => call.close());
	t.log(`server listener: ${call.listenerKind}; reconnectGrace ${RECONNECT_GRACE} s; WebSocket down for ${DOWN_MS} ms`);

	const media = { width: 320, height: 240, fps: 15, fakeFps: 15 };
	const [alice, bob, carol] = await call.addPeers(['alice', 'bob', 'carol'], media);

	if (!alice || !bob || !carol) throw new Error('peers did not start');
	await call.mediaFlowing();

	const names = await call.names();
	const before = await alice.state();
	const aliceId = before.peerId as string;
	const serverPeer = () => [...(call.server?.rooms.rooms ?? [])].flatMap((room) => [...room.peers]).find((p) => p.id === aliceId);
	const serverUfrags = () => [...(serverPeer()?.transports.values() ?? [])].map((tr) => tr.iceParameters.usernameFragment).sort();
	const ufragsBefore = serverUfrags();

	// Drop.
	const dropAt = Date.now();

	await alice.page.evaluate((downMs) => window.vcall.dropWebSocket(downMs), DOWN_MS);

	await waitFor(async () => (await alice.state()).connection === 'disconnected' || undefined, { timeout: 5000, what: 'alice to notice the drop' });
	t.true(serverPeer() !== undefined, 'the server keeps alice during the grace period');

	// Rejoin and ICE restart on both transports.
	const rejoined = await waitFor(
		async () => {
			const state = await alice.state();

			return state.rejoins === 1 && state.phase === 'joined' && state.transports.every((tr) => tr.iceRestarts === 1) ? state : undefined;
		},
		{ timeout: 30_000, interval: 100, what: 'alice to rejoin and restart ICE' }
	);
	const restartedAt = Date.now();
	const at = (type: string) => rejoined.events.find((e) => e.type === type && e.at >= dropAt)?.at;
	const reopenedAt = at('open');
	const rejoinedAt = at('rejoined');
	const iceDoneAt = Math.max(...rejoined.events.filter((e) => e.type === 'iceRestarted' && e.at >= dropAt).map((e) => e.at));

	t.log(
		`after the drop: WebSocket open again at +${(reopenedAt ?? NaN) - dropAt} ms, rejoinRoom answered at +${(rejoinedAt ?? NaN) - dropAt} ms, ` +
			`ICE restarted on both transports at +${iceDoneAt - dropAt} ms`
	);
	t.is(rejoined.peerId, aliceId, 'same peer id after rejoin');
	t.is(rejoined.disconnects, 1);

	// The server gave new ICE credentials, and the client uses them.
	const ufragsAfter = serverUfrags();

	t.is(ufragsAfter.length, 2);
	for (const ufrag of ufragsAfter) t.false(ufragsBefore.includes(ufrag), 'new server ICE username fragment');
	t.deepEqual(rejoined.transports.map((tr) => tr.serverIceUfrag).sort(), ufragsAfter, "the client's transports carry the server's new ICE parameters");

	// Media flows again, both ways: counters grow after the restart.
	const base = await Promise.all([alice, bob, carol].map(flowCounters));
	const flowingAt = await waitFor(
		async () => {
			const now = await Promise.all([alice, bob, carol].map(flowCounters));
			const grew = now.every((c, i) => {
				const b = base[i];

				return b !== undefined && c.sent > b.sent && [...c.received].length >= 4 && [...c.received].every(([key, n]) => n > (b.received.get(key) ?? 0));
			});

			return grew ? Date.now() : undefined;
		},
		{ timeout: Math.max(1000, dropAt + 30_000 - Date.now()), interval: 250, what: 'media to flow again within 30 s of the drop' }
	);

	t.log(`media flowing again both ways ${flowingAt - dropAt} ms after the drop (${flowingAt - restartedAt} ms after the restart was seen)`);
	t.true(flowingAt - dropAt < 30_000, 'media flows again within 30 s of the drop');

	// The ICE connection after the restart uses the new credentials.
	const aliceStats = await alice.stats();

	for (const tr of aliceStats.transports) {
		t.log(
			`alice ${tr.direction} transport: ${tr.iceState ?? '?'}/${tr.dtlsState ?? '?'} via ${tr.localCandidate?.protocol ?? '?'} ` +
				`${tr.localCandidate?.address}:${tr.localCandidate?.port} -> ${tr.remoteCandidate?.address}:${tr.remoteCandidate?.port}, ` +
				`remote ufrag ${tr.remoteCandidate?.usernameFragment ?? '(not reported)'}`
		);
		if (tr.remoteCandidate?.usernameFragment) t.true(ufragsAfter.includes(tr.remoteCandidate.usernameFragment), 'selected pair uses the new server credentials');
	}

	// A window of steady media after the reconnection.
	const machine = startMachineMeter();
	const samples = await sampleWindow([alice, bob, carol], WINDOW_SECONDS, 1000);

	t.log(machineNote(machine.stop()));

	for (const w of outboundWindows('alice', samples.get('alice') ?? [])) {
		t.log(describeOutbound(w));
		t.true(w.kbps.min > 0, `alice sends ${w.source} in every interval`);
	}
	for (const peer of [alice, bob, carol]) {
		const windows = inboundWindows(peer.name, samples.get(peer.name) ?? []);

		t.is(windows.length, 4, `${peer.name} receives audio and video from both others`);
		for (const w of windows) {
			if (peer === alice || w.peerId === aliceId) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));
			t.true(w.packetsPerSecond.min > 0, `${peer.name} <- ${names.get(w.peerId)} ${w.source}: packets in every interval`);
			if (w.kind === 'video') t.true(w.fps.min > 0, `${peer.name} <- ${names.get(w.peerId)}: frames decoded in every interval`);
		}
	}

	// Nobody saw alice leave.
	for (const peer of [bob, carol]) {
		const state = await peer.state();
		const left = state.events.filter((e) => (e.type === 'peerLeft' || e.type === 'producerClosed') && (e.data as { peerId?: string }).peerId === aliceId);

		t.deepEqual(left, [], `${peer.name} got no peerLeft/producerClosed for alice`);
		t.true(state.peers.some((p) => p.peerId === aliceId), `${peer.name} still lists alice`);
	}
	t.is(call.server && [...call.server.rooms.rooms][0]?.peerCount, 3, 'the server still holds three peers');
});
