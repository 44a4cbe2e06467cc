// Real networks between real browsers and the real server: every peer is a
// headless Chromium in a client namespace behind a NAT router namespace, the
// vcall server (tests/helpers/server-process.ts, media on 0.0.0.0 announcing
// its own address 10.77.0.1) in a namespace of its own (see
// tests/helpers/netlab.ts).
//
//   1. two peers behind two different NATs see and hear each other;
//   2. a peer whose network drops all UDP connects over ICE-TCP;
//   3. a peer with 3 % random loss on its link keeps decoding video (NACK/RTX);
//   4. a peer capped at 1 Mbit/s each way stays in the call.
//
// Figures come from getStats() sampled every second over a window of several
// seconds, never one sample. Skipped (with the reason) where namespaces
// cannot be used: not root, no `ip netns`, no nftables, no Chromium.

import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { StatsSnapshot, TransportStats } from '../../lib/client/api.js';
import { BrowserRoom, mediaFlowing, peerNames } from '../helpers/browser/call.js';
import { describeInbound, describeOutbound, inboundWindows, outboundWindows, sampleWindow, transportRates, type InboundWindow } from '../helpers/browser/metrics.js';
import type { BrowserPeer } from '../helpers/browser/peer.js';
import { rtpCounters, rtpDelta, TRACK_PEER_CONNECTIONS, type RtpCounters } from '../helpers/browser/rtp.js';
import { missingPrerequisite } from '../helpers/chromium.js';
import { acquireE2eLock } from '../helpers/lock.js';
import { Lab, SERVER_IP, type Network, type NetworkOptions } from '../helpers/netlab.js';
import { netnsUnavailable, removeLeftovers } from '../helpers/netns.js';
import { buildClient } from '../helpers/site.js';
import { waitFor } from '../helpers/wait.js';

const test = anyTest as TestFn<{ clientDir: string; release?: () => Promise<void> }>;
const unavailable = netnsUnavailable() ?? missingPrerequisite();
const maybe = unavailable ? test.serial.skip : test.serial;

if (unavailable) {
	test('network tests: skipped on this machine', (t) => {
		t.log(`network tests skipped: ${unavailable}`);
		t.pass();
	});
}

test.before(async (t) => {
	if (unavailable) return;

	// The browsers here would compete with those of the E2E files for the same cores.
	t.context.release = (await acquireE2eLock()).release;

	const removed = await removeLeftovers();

	if (removed.length) t.log(`removed namespaces left by earlier runs: ${removed.join(', ')}`);
	t.context.clientDir = await buildClient();
});

test.after.always(async (t) => {
	if (t.context.clientDir) await rm(t.context.clientDir, { recursive: true, force: true });
	await t.context.release?.();
});

// ---- Steps shared by the tests ----

interface PeerSpec {
	name: string;
	network: Network;
	width: number;
	height: number;
	fps: number;
}

let labCount = 0;

/** A lab for one test (removed in teardown), with the given home networks. */
async function openLab(t: ExecutionContext<{ clientDir: string; release?: () => Promise<void> }>, networks: NetworkOptions[]): Promise<Lab> {
	const lab = await Lab.start(`t${++labCount}`, t.context.clientDir);

	t.teardown(() => lab.destroy());
	t.log(`server: ${lab.listening}`);
	for (const [i, options] of networks.entries()) await lab.addNetwork(i + 1, options);

	return lab;
}

/** A peer of the network tests: a Chromium in its network's client namespace. */
interface NetPeer {
	peer: BrowserPeer;
	network: Network;
}

/** The first peer creates the room, the others join it; resolves once all have joined. */
async function startCall(lab: Lab, specs: PeerSpec[]): Promise<NetPeer[]> {
	const room = lab.track(new BrowserRoom({ clientOrigin: lab.origin, serverUrl: lab.serverUrl }));
	const add = ({ name, network, ...media }: PeerSpec) =>
		room
			.addPeer(name, {
				...media,
				fakeFps: media.fps,
				executablePath: network.chromium,
				// getUserMedia needs a secure context; the static origin on 10.77.0.1 is plain http.
				extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${lab.origin}`],
				initScript: TRACK_PEER_CONNECTIONS,
				viewport: { width: 960, height: 720 },
				timeout: 60_000
			})
			.then((peer) => ({ peer, network }));
	const [first, ...rest] = specs;

	if (!first) return [];

	return [await add(first), ...(await Promise.all(rest.map(add)))];
}

function candidatePair(transport: TransportStats): string {
	const l = transport.localCandidate;
	const r = transport.remoteCandidate;

	return l && r ? `${l.protocol} ${l.address}:${l.port} (${l.candidateType}) -> ${r.address}:${r.port} (${r.candidateType})` : 'no selected pair';
}

interface PeerWindow {
	peer: BrowserPeer;
	network: Network;
	samples: StatsSnapshot[];
	video: InboundWindow[];
	audio: InboundWindow[];
	rates: { sendKbps: number; recvKbps: number };
	rtp: RtpCounters | undefined;
}

/**
 * Samples all peers over `seconds` (one sample a second) and logs, per peer:
 * its selected candidate pairs, what it sends, what it receives, its
 * transport rates, and the raw NACK/RTX counters over the window.
 */
async function measure(t: ExecutionContext, peers: NetPeer[], seconds: number): Promise<Map<string, PeerWindow>> {
	const names = await peerNames(peers.map(({ peer }) => peer));
	const load = () => os.loadavg()[0]?.toFixed(1) ?? '?';

	t.log(`window of ${seconds} s starts; machine load ${load()} on ${os.availableParallelism()} CPUs (figures below depend on it)`);

	const rtpBefore = await Promise.all(peers.map(({ peer }) => rtpCounters(peer).catch(() => undefined)));
	const samples = await sampleWindow(peers.map(({ peer }) => peer), seconds, 1000);
	const rtpAfter = await Promise.all(peers.map(({ peer }) => rtpCounters(peer).catch(() => undefined)));

	t.log(`window over; machine load ${load()}`);

	const result = new Map<string, PeerWindow>();

	peers.forEach(({ peer, network }, i) => {
		const own = samples.get(peer.name) ?? [];
		const inbound = inboundWindows(peer.name, own);
		const before = rtpBefore[i];
		const after = rtpAfter[i];
		const rtp = before && after ? rtpDelta(before, after) : undefined;
		const window: PeerWindow = {
			peer,
			network,
			samples: own,
			video: inbound.filter((w) => w.kind === 'video'),
			audio: inbound.filter((w) => w.kind === 'audio'),
			rates: transportRates(own),
			rtp
		};

		for (const transport of own.at(-1)?.transports ?? []) t.log(`${peer.name} ${transport.direction} transport: ${candidatePair(transport)}`);
		for (const w of outboundWindows(peer.name, own)) t.log(describeOutbound(w));
		for (const w of inbound) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));
		t.log(`${peer.name}: sends ${window.rates.sendKbps.toFixed(0)} kbit/s, receives ${window.rates.recvKbps.toFixed(0)} kbit/s`);
		if (rtp) {
			const v = rtp.sent.video;
			const r = rtp.received.video;

			t.log(
				`${peer.name} video over the window: sent ${v.packets} pkts, NACKs received ${v.nackCount ?? 'n/a'}, retransmitted ${v.retransmittedPackets ?? 'n/a'}, PLIs/FIRs received ${v.pliCount ?? 'n/a'}/${v.firCount ?? 'n/a'}; ` +
					`received ${r.packets} pkts, lost ${r.packetsLost}, NACKs sent ${r.nackCount ?? 'n/a'}, RTX received ${r.retransmittedPackets ?? 'n/a'}, PLIs/FIRs sent ${r.pliCount ?? 'n/a'}/${r.firCount ?? 'n/a'}, key frames decoded ${r.keyFramesDecoded ?? 'n/a'}`
			);
		}
		result.set(peer.name, window);
	});

	return result;
}

/** Both peers receive one video and one audio from the other, decoding/arriving in every interval. */
function assertTwoWayMedia(t: ExecutionContext, windows: Map<string, PeerWindow>, seconds: number, { minFps }: { minFps: number }): void {
	for (const { peer, video, audio } of windows.values()) {
		t.is(video.length, 1, `${peer.name} receives one video`);
		t.is(audio.length, 1, `${peer.name} receives one audio`);
		for (const w of video) {
			t.true(w.intervals >= seconds - 1, `${peer.name}: video sampled over ${w.intervals} intervals`);
			t.true(w.fps.min > 0, `${peer.name}: video frames decoded in every interval (min ${w.fps.min.toFixed(1)}/s)`);
			t.true(w.fps.avg >= minFps, `${peer.name}: ${w.fps.avg.toFixed(1)} fps >= ${minFps} over the window`);
		}
		for (const w of audio) {
			t.true(w.intervals >= seconds - 1, `${peer.name}: audio sampled over ${w.intervals} intervals`);
			t.true(w.packetsPerSecond.min > 0, `${peer.name}: audio packets arrive in every interval (min ${w.packetsPerSecond.min.toFixed(1)}/s)`);
			t.true(w.samplesPerSecond.min >= 40_000, `${peer.name}: ${w.samplesPerSecond.min.toFixed(0)} audio samples/s at least`);
		}
	}
}

/** Runs the body; on failure logs what the server printed and the pages' errors first. */
async function explained(t: ExecutionContext, lab: () => Lab | undefined, peers: () => NetPeer[], body: () => Promise<void>): Promise<void> {
	try {
		await body();
	} catch (error) {
		const current = lab();

		if (current) {
			const output = current.output(40);

			t.log(`server ${current.serverAlive ? 'running' : 'GONE'}; its last lines:\n${output}`);
			if (/mediasoup worker .* died/.test(output)) t.log('a mediasoup worker died during the test: the calls on it failed with it');
		}
		for (const { peer } of peers()) {
			const state = await peer.state().catch(() => undefined);

			t.log(`${peer.name}: phase ${state?.phase ?? '?'}, errors ${JSON.stringify(state?.errors ?? [])}, console ${JSON.stringify(peer.consoleErrors.slice(-5))}`);
		}
		throw error;
	}
}

// ---- The tests ----

maybe('two peers behind two different NATs see and hear each other (server announces its own address)', async (t) => {
	t.timeout(150_000);

	const SECONDS = 6;
	let lab: Lab | undefined;
	let peers: NetPeer[] = [];

	await explained(t, () => lab, () => peers, async () => {
		lab = await openLab(t, [{}, {}]);

		const [net1, net2] = lab.networks as [Network, Network];

		peers = await startCall(lab, [
			{ name: 'alice', network: net1, width: 320, height: 240, fps: 15 },
			{ name: 'bob', network: net2, width: 320, height: 240, fps: 15 }
		]);
		await mediaFlowing(peers.map(({ peer }) => peer));

		const windows = await measure(t, peers, SECONDS);

		assertTwoWayMedia(t, windows, SECONDS, { minFps: 5 });

		for (const { peer, network, samples } of windows.values()) {
			const transports = samples.at(-1)?.transports ?? [];

			t.is(transports.length, 2, `${peer.name} has a send and a recv transport`);
			for (const transport of transports) {
				t.is(transport.localCandidate?.protocol, 'udp', `${peer.name} ${transport.direction}: media over UDP`);
				// The browser sits on 192.168.N.2; the server's STUN answers told it the
				// address it is seen from: its router's, learnt as a peer-reflexive candidate.
				t.is(transport.localCandidate?.address, network.publicIp, `${peer.name} ${transport.direction}: seen by the server at its NAT's address`);
				t.is(transport.localCandidate?.candidateType, 'prflx', `${peer.name} ${transport.direction}: local candidate learnt through the NAT (prflx)`);
				t.is(transport.remoteCandidate?.address, SERVER_IP, `${peer.name} ${transport.direction}: to the server's announced address`);
			}
		}
		for (const network of lab.networks) {
			const counters = await lab.counters(network);

			t.log(
				`router r${network.index} (${network.clientIp} behind ${network.publicIp}): ${counters.nat_new?.packets ?? 0} connections masqueraded, ` +
					`${counters.up_fwd?.packets ?? 0} packets up, ${counters.down_fwd?.packets ?? 0} down`
			);
			t.true((counters.nat_new?.packets ?? 0) > 0, `r${network.index} translated the peer's connections`);
		}
	});
});

maybe('a peer whose network drops all UDP connects over ICE-TCP and media flows both ways', async (t) => {
	t.timeout(150_000);

	const SECONDS = 6;
	let lab: Lab | undefined;
	let peers: NetPeer[] = [];

	await explained(t, () => lab, () => peers, async () => {
		lab = await openLab(t, [{ dropUdp: true }, {}]);

		const [blocked, open] = lab.networks as [Network, Network];

		// No tcp=1: the client offers what it always does and ICE has to find TCP by itself.
		peers = await startCall(lab, [
			{ name: 'tcpeer', network: blocked, width: 320, height: 240, fps: 15 },
			{ name: 'udpeer', network: open, width: 320, height: 240, fps: 15 }
		]);
		await mediaFlowing(peers.map(({ peer }) => peer));

		const windows = await measure(t, peers, SECONDS);

		assertTwoWayMedia(t, windows, SECONDS, { minFps: 5 });

		const tcpTransports = windows.get('tcpeer')?.samples.at(-1)?.transports ?? [];

		t.is(tcpTransports.length, 2, 'the UDP-blocked peer has a send and a recv transport');
		for (const transport of tcpTransports) {
			t.is(transport.localCandidate?.protocol, 'tcp', `UDP-blocked peer ${transport.direction}: selected pair is TCP (${candidatePair(transport)})`);
			t.is(transport.remoteCandidate?.protocol, 'tcp', `UDP-blocked peer ${transport.direction}: server candidate is TCP`);
			t.is(transport.remoteCandidate?.address, SERVER_IP, `UDP-blocked peer ${transport.direction}: to the server's announced address`);
			t.is(transport.localCandidate?.address, blocked.publicIp, `UDP-blocked peer ${transport.direction}: through its NAT`);
		}
		for (const transport of windows.get('udpeer')?.samples.at(-1)?.transports ?? []) {
			t.is(transport.localCandidate?.protocol, 'udp', `open peer ${transport.direction}: still UDP`);
		}

		const counters = await lab.counters(blocked);

		t.log(`router r1: dropped ${counters.up_udp_drop?.packets ?? 0} UDP packets up, ${counters.down_udp_drop?.packets ?? 0} down; forwarded ${counters.up_fwd?.packets ?? 0} up`);
		t.true((counters.up_udp_drop?.packets ?? 0) > 0, 'the browser did try UDP, and it was dropped');
	});
});

maybe('a peer with 3 % random loss each way keeps decoding video (NACK/RTX repair it)', async (t) => {
	t.timeout(150_000);

	const SECONDS = 10;
	const LOSS = 3;
	let lab: Lab | undefined;
	let peers: NetPeer[] = [];

	await explained(t, () => lab, () => peers, async () => {
		lab = await openLab(t, [{ lossPct: LOSS }, {}]);

		const [lossy, clean] = lab.networks as [Network, Network];

		peers = await startCall(lab, [
			{ name: 'lossy', network: lossy, width: 640, height: 480, fps: 25 },
			{ name: 'clean', network: clean, width: 640, height: 480, fps: 25 }
		]);
		await mediaFlowing(peers.map(({ peer }) => peer));

		const before = await lab.counters(lossy);
		const windows = await measure(t, peers, SECONDS);
		const after = await lab.counters(lossy);
		const dropped = (name: string) => (after[name]?.packets ?? 0) - (before[name]?.packets ?? 0);
		const upPct = (100 * dropped('up_loss')) / Math.max(1, dropped('up_fwd'));
		const downPct = (100 * dropped('down_loss')) / Math.max(1, dropped('down_fwd'));

		t.log(
			`link loss measured at router r1 over the window: up ${upPct.toFixed(2)} % (${dropped('up_loss')}/${dropped('up_fwd')} pkts), ` +
				`down ${downPct.toFixed(2)} % (${dropped('down_loss')}/${dropped('down_fwd')} pkts)`
		);
		t.true(upPct > 1 && upPct < 6, `about ${LOSS} % dropped upstream (${upPct.toFixed(2)} %)`);
		t.true(downPct > 1 && downPct < 6, `about ${LOSS} % dropped downstream (${downPct.toFixed(2)} %)`);

		// Video decodes in every second both ways, at a useful rate.
		assertTwoWayMedia(t, windows, SECONDS, { minFps: 5 });

		const lossyWindow = windows.get('lossy');
		const cleanWindow = windows.get('clean');
		const down = lossyWindow?.video[0];
		const up = cleanWindow?.video[0];

		t.log(
			`summary: lossy peer receives ${down?.fps.avg.toFixed(1)} fps (RTP loss in its receiver stats ${down?.lossPct.toFixed(2)} %, freezes ${down?.freezes}); ` +
				`clean peer receives the lossy peer's video at ${up?.fps.avg.toFixed(1)} fps (loss ${up?.lossPct.toFixed(2)} %, freezes ${up?.freezes})`
		);

		// Repair at work, where Chromium reports it: the lossy peer NACKs what the
		// SFU sent and it lost, and the SFU NACKs what the peer sent and it lost.
		const rtp = lossyWindow?.rtp;

		if (!rtp) t.log('raw RTP counters not available: NACK/RTX not checked');
		else {
			const sent = rtp.sent.video;
			const received = rtp.received.video;

			if (received.nackCount !== undefined) t.true(received.nackCount > 0, `the lossy peer sent NACKs for lost downstream packets (${received.nackCount})`);
			if (received.retransmittedPackets !== undefined) t.true(received.retransmittedPackets > 0, `the SFU retransmitted to it (${received.retransmittedPackets} RTX packets)`);
			if (sent.nackCount !== undefined) t.true(sent.nackCount > 0, `the SFU NACKed the lossy peer's lost upstream packets (${sent.nackCount})`);
			if (sent.retransmittedPackets !== undefined) t.true(sent.retransmittedPackets > 0, `the lossy peer retransmitted (${sent.retransmittedPackets} RTX packets)`);
		}
	});
});

maybe('a peer capped at 1 Mbit/s each way stays in the call', async (t) => {
	t.timeout(150_000);

	const SECONDS = 10;
	const CAP_KBIT = 1000;
	let lab: Lab | undefined;
	let peers: NetPeer[] = [];

	await explained(t, () => lab, () => peers, async () => {
		lab = await openLab(t, [{ rateKbit: CAP_KBIT }, {}]);

		const [capped, free] = lab.networks as [Network, Network];

		// 1280x720 at 30 fps: Chromium's fake camera compresses so well that
		// 640x480 needs only ~600 kbit/s, which would never meet the cap.
		peers = await startCall(lab, [
			{ name: 'capped', network: capped, width: 1280, height: 720, fps: 30 },
			{ name: 'free', network: free, width: 1280, height: 720, fps: 30 }
		]);
		await mediaFlowing(peers.map(({ peer }) => peer));
		// The downlink budget follows the capped peer's estimate down to a lower simulcast layer: measure once it has.
		await waitFor(
			async () => {
				const cappedPeer = peers[0]!.peer;
				const [state, stats] = await Promise.all([cappedPeer.state(), cappedPeer.stats()]);
				const layer = state.consumers.find((c) => c.kind === 'video')?.layers?.spatialLayer;
				const height = stats.inbound.find((s) => s.kind === 'video')?.frameHeight ?? 720;

				return layer !== undefined && layer < 2 && height < 720;
			},
			{ timeout: 30_000, interval: 500, what: 'the capped peer to receive a lower layer' }
		);

		const qdiscBefore = await lab.qdiscs(capped);
		const started = Date.now();
		const windows = await measure(t, peers, SECONDS);
		const elapsed = (Date.now() - started) / 1000;
		const qdiscAfter = await lab.qdiscs(capped);

		for (const q of qdiscAfter) {
			const b = qdiscBefore.find((x) => x.dev === q.dev);
			const kbps = (((q.bytes - (b?.bytes ?? 0)) * 8) / 1000 / elapsed).toFixed(0);

			t.log(`router r1 tbf on ${q.dev} (${q.dev === 'wan' ? 'upload' : 'download'}): ${kbps} kbit/s through, ${q.drops - (b?.drops ?? 0)} packets dropped over the window`);
		}

		for (const { peer } of peers) {
			const send = windows.get(peer.name)?.samples.at(-1)?.transports.find((tr) => tr.direction === 'send');

			t.log(`${peer.name}: the browser's bandwidth estimate for its upload at the end: ${((send?.availableOutgoingBitrate ?? 0) / 1000).toFixed(0)} kbit/s`);
		}

		const cappedWindow = windows.get('capped');
		const freeWindow = windows.get('free');
		const received = cappedWindow?.video[0];
		const sentUp = freeWindow?.video[0];

		t.log(
			`capped peer receives: ${received?.kbps.avg.toFixed(0)} kbit/s video at ${received?.width.min}x${received?.height.min}..${received?.width.max}x${received?.height.max}, ` +
				`${received?.fps.avg.toFixed(1)} fps (min ${received?.fps.min.toFixed(1)}), loss ${received?.lossPct.toFixed(2)} %, freezes ${received?.freezes}; ` +
				`total ${cappedWindow?.rates.recvKbps.toFixed(0)} kbit/s in, ${cappedWindow?.rates.sendKbps.toFixed(0)} kbit/s out`
		);
		t.log(
			`free peer receives the capped peer at: ${sentUp?.kbps.avg.toFixed(0)} kbit/s, ${sentUp?.width.min}x${sentUp?.height.min}..${sentUp?.width.max}x${sentUp?.height.max}, ` +
				`${sentUp?.fps.avg.toFixed(1)} fps (min ${sentUp?.fps.min.toFixed(1)}), loss ${sentUp?.lossPct.toFixed(2)} %`
		);

		// The call survives: both still joined, transports connected, audio in
		// every interval both ways, video still decoded both ways.
		for (const { peer } of peers) {
			const state = await peer.state();

			t.is(state.phase, 'joined', `${peer.name} is still in the call`);
			for (const transport of state.transports) t.is(transport.connectionState, 'connected', `${peer.name} ${transport.direction} transport connected`);
		}
		for (const { peer, video, audio } of windows.values()) {
			t.is(audio.length, 1, `${peer.name} receives one audio`);
			t.is(video.length, 1, `${peer.name} receives one video`);
			for (const w of audio) t.true(w.packetsPerSecond.min > 0, `${peer.name}: audio packets arrive in every interval (min ${w.packetsPerSecond.min.toFixed(1)}/s)`);
			for (const w of video) t.true(w.framesDecoded > 0, `${peer.name}: video frames decoded over the window (${w.framesDecoded})`);
		}
		// Simulcast: the server keeps the capped peer's downlink inside its estimate
		// with a lower layer; before simulcast it got the full stream at 10.8 fps,
		// 35 % loss and 6 freezes over this window.
		const layerOf = async (peer: BrowserPeer) => (await peer.state()).consumers.find((c) => c.kind === 'video')?.layers?.spatialLayer;
		const cappedLayer = await layerOf(peers[0]!.peer);
		const freeLayer = await layerOf(peers[1]!.peer);

		t.log(
			`capped peer with simulcast: layer ${cappedLayer}, ${received?.height.max}p, ${received?.fps.avg.toFixed(1)} fps, loss ${received?.lossPct.toFixed(2)} %, ${received?.freezes} freezes ` +
				`(before simulcast: 1280x720 at 10.8 fps, 35 % loss, 6 freezes); free peer: layer ${freeLayer}, ${sentUp?.height.max}p`
		);
		t.true((received?.height.max ?? 720) < 720, `the capped peer receives a lower layer (${received?.height.max}p)`);
		t.true((received?.fps.avg ?? 0) >= 20, `the capped peer's video at >= 20 fps (${received?.fps.avg.toFixed(1)})`);
		t.true((received?.lossPct ?? 100) < 2, `the capped peer loses < 2 % (${received?.lossPct.toFixed(2)} %)`);
		t.is(received?.freezes, 0, 'no freeze over the window');
		// The capped sender's 1 Mbit/s uplink carries only its two lower layers (Chromium drops the top one):
		// the free peer, with no downlink limit, gets the best of them.
		t.true((freeLayer ?? -1) >= 1, `the free peer receives the capped sender's upper layer that arrives (layer ${freeLayer})`);

		// The cap is real: nothing crosses the capped link faster than it allows (10 % slack for burst).
		t.true((cappedWindow?.rates.recvKbps ?? 0) <= CAP_KBIT * 1.1, `the capped peer receives at most ~${CAP_KBIT} kbit/s (${cappedWindow?.rates.recvKbps.toFixed(0)})`);
		t.true((cappedWindow?.rates.sendKbps ?? 0) <= CAP_KBIT * 1.1, `the capped peer sends at most ~${CAP_KBIT} kbit/s (${cappedWindow?.rates.sendKbps.toFixed(0)})`);
	});
});
