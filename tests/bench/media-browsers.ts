// The browser part of benchmark 5: real media through the SFU. Headless
// Chromium peers (fake camera + microphone) with the browser client, driven
// by the browser suites' helpers (tests/helpers/browser: ClientSite, Call,
// sampleWindow, inboundWindows). Loaded only when the benchmark runs
// (bench-media.ts), so the other benchmarks never load playwright. The server
// runs in a child process (tests/helpers/server-process.ts), and its CPU
// (Node + workers) is read from /proc over a window while every peer
// receives every other peer's audio and video.

import os from 'node:os';
import { Call, ClientSite } from '../helpers/browser/call.js';
import { inboundWindows, sampleWindow, transportRates, type Range } from '../helpers/browser/metrics.js';
import { SIMULCAST_MIN_HEIGHT } from '../../lib/client/media.js';
import { childPids, cpuBetween } from '../helpers/proc.js';
import { testConfig } from '../helpers/server.js';
import { finishSection, type BenchContext, type Goal, type Section } from './lib/section.js';
import { sleep } from './lib/stats.js';
import type { Table } from './lib/table.js';

/** A room to measure: its size and what every browser captures. */
interface Scenario {
	peers: number;
	width: number;
	height: number;
	fps: number;
}

interface RoomResult {
	peers: number;
	capture: string;
	streams: number;
	flowingSeconds: number;
	windowSeconds: number;
	serverCpu: { node: number; workers: number };
	forwardedKbps: number;
	videoFps: Range;
	videoKbps: Range;
	lossPct: number;
	freezes: number;
	/** Per browser, over the window: what it sent and received (transport bytes, all streams). */
	sendKbps: Range;
	recvKbps: Range;
	loadAverage: number;
}

function rangeText(r: Range): string {
	return `${r.avg.toFixed(0)} (${r.min.toFixed(0)}-${r.max.toFixed(0)})`;
}

function rangeOf(values: number[]): Range {
	return values.length
		? { min: Math.min(...values), avg: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) }
		: { min: Number.NaN, avg: Number.NaN, max: Number.NaN };
}

export async function runBrowserMedia(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	// The brief's call: 640x480 at 30 fps from every peer. Seven Chromiums encoding
	// and decoding that saturate 2 cores, so the same room also runs at 320x240 and
	// 15 fps, where the browsers keep up and the server's share is clearer.
	const scenarios: Scenario[] = ctx.quick
		? [{ peers: 2, width: 640, height: 480, fps: 30 }, { peers: 4, width: 320, height: 240, fps: 15 }]
		: [
				{ peers: 2, width: 640, height: 480, fps: 30 },
				{ peers: 7, width: 640, height: 480, fps: 30 },
				{ peers: 7, width: 320, height: 240, fps: 15 },
				// Simulcast (the client sends 3 layers from 720p up); 10 fps so that seven encoders of three layers fit 2 cores.
				{ peers: 7, width: 1280, height: 720, fps: 10 }
			];
	/** What the server sends each peer at most (its default MAX_DOWNLINK_BITRATE), kbit/s. */
	const budgetKbps = testConfig().maxDownlinkBitrate / 1000;
	const simulcast = (r: RoomResult) => Number(r.capture.split('x')[1]?.split('@')[0]) >= SIMULCAST_MIN_HEIGHT;
	const windowSeconds = ctx.quick ? 10 : 20;
	const site = await ClientSite.start();
	const results: RoomResult[] = [];
	let listener = '?';

	ctx.log('media: client built');
	try {
		for (const scenario of scenarios) {
			const size = scenario.peers;
			const media = { width: scenario.width, height: scenario.height, fps: scenario.fps, fakeFps: scenario.fps, audioProcessing: false, tile: 160, figuresMs: 0 };
			const capture = `${scenario.width}x${scenario.height}@${scenario.fps}`;
			// All peers in one Chromium (isolated contexts) where there are many: fewer browser processes on 2 cores.
			const call = await Call.start(site, { serverProcess: true, sharedBrowser: size > 2 });

			try {
				const server = call.process;

				if (!server) throw new Error('Call did not start a server process');
				listener = call.listenerKind;

				const joinStarted = performance.now();
				const peers = await call.addPeers(
					Array.from({ length: size }, (_, i) => `peer${i + 1}`),
					media,
					{ joinTimeout: 90_000, oneByOne: true }
				);

				await call.mediaFlowing(peers, { timeout: 90_000 });

				const flowingSeconds = (performance.now() - joinStarted) / 1000;

				await sleep(2000);

				const before = server.sample();
				const samples = await sampleWindow(peers, windowSeconds, 1000);
				const after = server.sample();
				const seconds = (after.at - before.at) / 1000;
				const used = cpuBetween(before, after);
				const windows = peers.flatMap((p) => inboundWindows(p.name, samples.get(p.name) ?? []));
				const video = windows.filter((w) => w.kind === 'video');
				const avg = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);
				const rates = peers.map((p) => transportRates(samples.get(p.name) ?? []));

				results.push({
					peers: size,
					capture,
					streams: windows.length,
					flowingSeconds,
					windowSeconds: seconds,
					serverCpu: { node: (used.node / seconds) * 100, workers: (used.workers / seconds) * 100 },
					forwardedKbps: windows.reduce((sum, w) => sum + w.kbps.avg, 0),
					videoFps: { min: Math.min(...video.map((w) => w.fps.min)), avg: avg(video.map((w) => w.fps.avg)), max: Math.max(...video.map((w) => w.fps.max)) },
					videoKbps: { min: Math.min(...video.map((w) => w.kbps.avg)), avg: avg(video.map((w) => w.kbps.avg)), max: Math.max(...video.map((w) => w.kbps.avg)) },
					lossPct: avg(windows.map((w) => w.lossPct)),
					freezes: windows.reduce((sum, w) => sum + w.freezes, 0),
					sendKbps: rangeOf(rates.map((r) => r.sendKbps)),
					recvKbps: rangeOf(rates.map((r) => r.recvKbps)),
					loadAverage: os.loadavg()[0] ?? Number.NaN
				});
				ctx.log(`media: ${size} browsers at ${capture}: ${windows.length} streams, send ${rangeText(results.at(-1)!.sendKbps)} kbit/s, receive ${rangeText(results.at(-1)!.recvKbps)} kbit/s per peer, server CPU node ${results.at(-1)!.serverCpu.node.toFixed(1)} % + workers ${results.at(-1)!.serverCpu.workers.toFixed(1)} % (workers: ${childPids(server.pid).length})`);
			} finally {
				await call.close();
			}
		}
	} finally {
		await site.close();
	}

	const cores = os.availableParallelism();
	const serverPct = (r: RoomResult) => r.serverCpu.node + r.serverCpu.workers;
	const tables: Table[] = [
		{
			title: `Media forwarding, headless Chromium peers in one room (fake camera + fake microphone), ${listener} listener`,
			headers: ['browsers', 'capture', 'simulcast', 'streams received', 'join->flowing s', 'server CPU % of a core (node + workers)', 'server CPU % of the machine', 'CPU % per stream', 'send kbps per peer avg (min-max)', 'receive kbps per peer avg (min-max)', `max receive / budget (${budgetKbps} kbps)`, 'video fps avg (min)', 'loss %', 'freezes', 'load avg'],
			rows: results.map((r) => [
				r.peers,
				r.capture,
				simulcast(r) ? 'yes' : 'no',
				r.streams,
				r.flowingSeconds,
				`${serverPct(r).toFixed(1)} (${r.serverCpu.node.toFixed(1)} + ${r.serverCpu.workers.toFixed(1)})`,
				serverPct(r) / cores,
				serverPct(r) / Math.max(1, r.streams),
				rangeText(r.sendKbps),
				rangeText(r.recvKbps),
				r.recvKbps.max / budgetKbps,
				`${r.videoFps.avg.toFixed(1)} (${r.videoFps.min.toFixed(1)})`,
				r.lossPct,
				r.freezes,
				r.loadAverage
			]),
			notes: [
				`  Window ${windowSeconds} s after all streams flowed; send/receive = each browser's transport bytes (audio + video + RTCP) over the window.`,
				`  Simulcast: the browser client sends 3 layers from ${SIMULCAST_MIN_HEIGHT}p up, a single stream below; the server's downlink budget keeps each peer's receive rate within MAX_DOWNLINK_BITRATE (max receive / budget <= 1). CPU % per stream compares forwarding with and without simulcast.`,
				`  The browsers share the machine's ${cores} cores with the server: fps, bitrates and loss reflect the browsers' CPU as much as the server (Chromium lowers resolution and bitrate when its encoder is starved).`
			]
		}
	];
	const seven = results.find((r) => r.peers === 7 && r.capture.startsWith('640x480'));
	const sevenSimulcast = results.find((r) => r.peers === 7 && simulcast(r));
	const single = results.find((r) => r.peers === 7 && !simulcast(r) && r !== seven);
	const goals: Goal[] = sevenSimulcast
		? [
				{
					goal: `per-peer receive bitrate, 7 browsers sending ${sevenSimulcast.capture} simulcast`,
					target: `<= MAX_DOWNLINK_BITRATE (${budgetKbps} kbit/s)`,
					measured: `receive ${rangeText(sevenSimulcast.recvKbps)} kbit/s per peer; server CPU per stream ${(serverPct(sevenSimulcast) / sevenSimulcast.streams).toFixed(2)} % of a core with simulcast${single ? `, ${(serverPct(single) / single.streams).toFixed(2)} % without (${single.capture})` : ''}`,
					met: sevenSimulcast.recvKbps.max <= budgetKbps
				}
			]
		: [];

	if (seven)
		goals.push(
			{
				goal: `server CPU (Node + workers), 7 browsers sending 640x480 (${listener})`,
				target: '< 70 % of the machine',
				measured: `${(serverPct(seven) / cores).toFixed(1)} % of the machine (${serverPct(seven).toFixed(1)} % of one core)`,
				met: serverPct(seven) / cores < 70
			},
			{
				goal: 'bitrate per peer in a 7-peer 640x480 room (informational: the browsers set it)',
				target: 'about 1-2 Mbit/s sent',
				measured: `send ${rangeText(seven.sendKbps)} kbit/s, receive ${rangeText(seven.recvKbps)} kbit/s per peer`,
				met: undefined,
				note: 'the SFU forwards what it gets; each browser\'s bandwidth estimate and (on this 2-core box) its encoder\'s CPU decide the rate'
			}
		);

	return finishSection(started, {
		name: 'media',
		title: 'Media forwarding with real browsers',
		tables,
		goals,
		data: results
	});
}
