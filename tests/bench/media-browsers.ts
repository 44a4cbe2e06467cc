// The browser part of benchmark 5: real media through the SFU. Headless
// Chromium peers (fake camera + microphone) with the browser client, driven
// by the E2E tests' helpers (tests/e2e/helpers: ClientSite, Call,
// sampleWindow, inboundWindows), which are loaded at run time through
// structural types of our own, so this file never breaks the build when
// those helpers change. The server runs in a child process (the E2E
// helper's), and its CPU (Node + workers) is read from /proc over a window
// while every peer receives every other peer's audio and video.

import os from 'node:os';
import { sampleServer, cpuBetween, childPids } from './lib/proc.js';
import type { BenchContext, Section } from './lib/section.js';
import { sleep } from './lib/stats.js';
import type { Table } from './lib/table.js';

interface Range {
	min: number;
	avg: number;
	max: number;
}

interface InboundWindow {
	kind: 'audio' | 'video';
	kbps: Range;
	lossPct: number;
	fps: Range;
	freezes: number;
}

interface BrowserPeerLike {
	name: string;
}

interface CallLike {
	process: { pid: number; workerPids: number[] } | undefined;
	listenerKind: string;
	addPeers(names: string[], media: Record<string, unknown>): Promise<BrowserPeerLike[]>;
	mediaFlowing(peers: BrowserPeerLike[], options: { timeout: number }): Promise<void>;
	close(): Promise<void>;
}

interface CallModule {
	ClientSite: { start(): Promise<{ close(): Promise<void> }> };
	Call: { start(site: unknown, options: { serverProcess: boolean; server?: Record<string, unknown> }): Promise<CallLike> };
}

interface MetricsModule {
	sampleWindow(peers: BrowserPeerLike[], seconds: number, intervalMs?: number): Promise<Map<string, unknown[]>>;
	inboundWindows(receiver: string, samples: unknown[]): InboundWindow[];
}

interface RoomResult {
	peers: number;
	streams: number;
	flowingSeconds: number;
	windowSeconds: number;
	serverCpu: { node: number; workers: number };
	forwardedKbps: number;
	videoFps: Range;
	videoKbps: Range;
	lossPct: number;
	freezes: number;
	loadAverage: number;
}

export async function runBrowserMedia(ctx: BenchContext, harness: string): Promise<Section> {
	const started = performance.now();
	const helpers = new URL('../e2e/helpers/', import.meta.url);
	const callModule = (await import(new URL('call.js', helpers).href)) as CallModule;
	const metrics = (await import(new URL('metrics.js', helpers).href)) as MetricsModule;
	const sizes = ctx.quick ? [2, 4] : [2, 4, 7];
	const windowSeconds = ctx.quick ? 10 : 20;
	const media = { width: 320, height: 240, fps: 15, fakeFps: 15 };
	const site = await callModule.ClientSite.start();
	const results: RoomResult[] = [];
	let listener = '?';

	ctx.log(`media: client built; harness ${harness}`);
	try {
		for (const size of sizes) {
			const call = await callModule.Call.start(site, { serverProcess: true });

			try {
				const server = call.process;

				if (!server) throw new Error('the E2E helper did not start a server process');
				listener = call.listenerKind;

				const joinStarted = performance.now();
				const peers = await call.addPeers(
					Array.from({ length: size }, (_, i) => `peer${i + 1}`),
					media
				);

				await call.mediaFlowing(peers, { timeout: 90_000 });

				const flowingSeconds = (performance.now() - joinStarted) / 1000;

				await sleep(2000);

				const before = sampleServer(server.pid);
				const samples = await metrics.sampleWindow(peers, windowSeconds, 1000);
				const after = sampleServer(server.pid);
				const seconds = (after.at - before.at) / 1000;
				const used = cpuBetween(before, after);
				const windows = peers.flatMap((p) => metrics.inboundWindows(p.name, samples.get(p.name) ?? []));
				const video = windows.filter((w) => w.kind === 'video');
				const avg = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);

				results.push({
					peers: size,
					streams: windows.length,
					flowingSeconds,
					windowSeconds: seconds,
					serverCpu: { node: (used.node / seconds) * 100, workers: (used.workers / seconds) * 100 },
					forwardedKbps: windows.reduce((sum, w) => sum + w.kbps.avg, 0),
					videoFps: { min: Math.min(...video.map((w) => w.fps.min)), avg: avg(video.map((w) => w.fps.avg)), max: Math.max(...video.map((w) => w.fps.max)) },
					videoKbps: { min: Math.min(...video.map((w) => w.kbps.avg)), avg: avg(video.map((w) => w.kbps.avg)), max: Math.max(...video.map((w) => w.kbps.avg)) },
					lossPct: avg(windows.map((w) => w.lossPct)),
					freezes: windows.reduce((sum, w) => sum + w.freezes, 0),
					loadAverage: os.loadavg()[0] ?? Number.NaN
				});
				ctx.log(`media: ${size} browsers: ${windows.length} streams, server CPU node ${results.at(-1)!.serverCpu.node.toFixed(1)} % + workers ${results.at(-1)!.serverCpu.workers.toFixed(1)} % (workers: ${childPids(server.pid).length})`);
			} finally {
				await call.close();
			}
		}
	} finally {
		await site.close();
	}

	const tables: Table[] = [
		{
			title: `Media forwarding, headless Chromium peers in one room (320x240 at 15 fps fake camera + fake microphone), ${listener} listener`,
			headers: ['browsers', 'streams received', 'join->flowing s', 'forwarded kbps', 'server node CPU %', 'workers CPU %', 'CPU % per stream', 'video fps avg (min)', 'video kbps avg', 'loss %', 'freezes', 'load avg'],
			rows: results.map((r) => [
				r.peers,
				r.streams,
				r.flowingSeconds,
				r.forwardedKbps,
				r.serverCpu.node,
				r.serverCpu.workers,
				(r.serverCpu.node + r.serverCpu.workers) / Math.max(1, r.streams),
				`${r.videoFps.avg.toFixed(1)} (${r.videoFps.min.toFixed(1)})`,
				r.videoKbps.avg,
				r.lossPct,
				r.freezes,
				r.loadAverage
			]),
			notes: [
				`  Window ${windowSeconds} s after all streams flowed. The browsers share the machine's ${os.availableParallelism()} cores with the server: fps and loss reflect the browsers' CPU as much as the server.`
			]
		}
	];

	return {
		name: 'media',
		title: 'Media forwarding with real browsers',
		date: new Date().toISOString(),
		seconds: (performance.now() - started) / 1000,
		tables,
		goals: [],
		plots: [],
		data: results
	};
}
