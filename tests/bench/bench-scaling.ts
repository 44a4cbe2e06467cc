// Benchmark 4: the scaling curve. With 1, 10, 50, 100 7-peer rooms live
// (full media setup through FakeHandler), the join p99 of a further room's
// peers, the server's resident memory (Node + workers) and its CPU per join;
// the slope of RSS per connected peer.

import { JOIN_GOAL_MS } from './bench-join.js';
import { emptyRooms, fillRooms, measureJoins, PEERS_PER_ROOM, readMemory, type JoinMeasurement, type MemoryReading } from './lib/join-load.js';
import type { MediaRoom } from './lib/media-peer.js';
import { finishSection, type BenchContext, type Goal, type Plot, type Section } from './lib/section.js';
import { startBenchServer } from './lib/bench-server.js';
import { linearRegression, summarize } from './lib/stats.js';
import { chart } from './lib/svg.js';
import type { Table } from './lib/table.js';

export const RSS_GOAL_MB_PER_PEER = 3;

interface LevelResult {
	rooms: number;
	fillSeconds: number;
	memory: MemoryReading;
	join: JoinMeasurement;
}

interface StackResult {
	label: string;
	baseline: MemoryReading;
	levels: LevelResult[];
	slope: { totalMBPerPeer: number; nodeMBPerPeer: number; workersMBPerPeer: number; r2: number };
	/** Seconds to bring all 7 x max(levels) peers up, in steps. */
	fillSeconds: number;
}

export async function runScaling(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const levels = ctx.list('scalingLevels', ctx.quick ? [1, 10, 50] : [1, 10, 50, 100]);
	const samples = ctx.param('scalingSamples', ctx.quick ? 15 : 40);
	const results: StackResult[] = [];

	for (const spec of ctx.stacks.filter((s) => s.stack === 'vcall')) {
		const server = await startBenchServer(spec);
		const live: MediaRoom[] = [];

		try {
			const baseline = await readMemory(server);
			const levelResults: LevelResult[] = [];

			for (const level of levels) {
				const fillSeconds = await fillRooms(server, live, level);
				const memory = await readMemory(server);

				ctx.log(
					`scaling: ${spec.label}: ${level} rooms (${memory.peers} peers) live, filled in ${fillSeconds.toFixed(1)} s; RSS node ${memory.nodeRssMB.toFixed(0)} MB + workers ${memory.workersRssMB.toFixed(0)} MB`
				);

				const join = await measureJoins(server, samples, Date.now() + 300_000);

				levelResults.push({ rooms: level, fillSeconds, memory, join });
				ctx.log(`scaling: ${spec.label}: ${level} rooms: 7th peer p99 ${summarize(join.seventh).p99.toFixed(1)} ms, server CPU ${join.cpuPerRoomMs.total.toFixed(0)} ms per room`);
			}

			const points = [baseline, ...levelResults.map((l) => l.memory)];
			const total = linearRegression(points.map((m) => [m.peers, m.totalRssMB]));
			const node = linearRegression(points.map((m) => [m.peers, m.nodeRssMB]));
			const workers = linearRegression(points.map((m) => [m.peers, m.workersRssMB]));

			results.push({
				label: spec.label,
				baseline,
				levels: levelResults,
				slope: { totalMBPerPeer: total.slope, nodeMBPerPeer: node.slope, workersMBPerPeer: workers.slope, r2: total.r2 },
				fillSeconds: levelResults.reduce((sum, l) => sum + l.fillSeconds, 0)
			});
			await emptyRooms(live);
		} finally {
			await server.stop();
		}
	}

	const tables: Table[] = [];
	const plots: Plot[] = [];
	const goals: Goal[] = [];

	for (const r of results) {
		tables.push({
			title: `Scaling, ${r.label}: rooms live (7 peers each, 2 transports + audio + video producers + 12 consumers per peer)`,
			headers: ['rooms live', 'peers', 'transports', 'producers', 'consumers', 'node RSS MB', 'workers RSS MB', 'total RSS MB', '7th join p50 ms', 'p95 ms', 'p99 ms', 'server CPU/join ms', 'generator CPU/join ms', 'other procs CPU %', 'fill s'],
			rows: [
				[0, 0, 0, 0, 0, r.baseline.nodeRssMB, r.baseline.workersRssMB, r.baseline.totalRssMB, undefined, undefined, undefined, undefined, undefined, undefined, undefined],
				...r.levels.map((l) => {
					const s = summarize(l.join.seventh);

					return [
						l.rooms,
						l.memory.peers,
						l.memory.media.transports,
						l.memory.media.producers,
						l.memory.media.consumers,
						l.memory.nodeRssMB,
						l.memory.workersRssMB,
						l.memory.totalRssMB,
						s.p50,
						s.p95,
						s.p99,
						l.join.cpuPerRoomMs.total / PEERS_PER_ROOM,
						l.join.generatorCpuPerRoomMs / PEERS_PER_ROOM,
						l.join.otherCpuPercent,
						l.fillSeconds
					];
				})
			],
			notes: [
				`  RSS slope (least squares over the rows): ${r.slope.totalMBPerPeer.toFixed(3)} MB per connected peer (Node ${r.slope.nodeMBPerPeer.toFixed(3)} + workers ${r.slope.workersMBPerPeer.toFixed(3)}), r^2 = ${r.slope.r2.toFixed(3)}.`,
				`  RSS read after a forced GC in the server (--expose-gc). CPU/join = server CPU (Node + workers) for the 7 joins of a room / 7. Bringing ${r.levels.at(-1)!.rooms * PEERS_PER_ROOM} peers up took ${r.fillSeconds.toFixed(0)} s.`
			]
		});
		goals.push({
			goal: `server RSS per connected peer incl. transports/producers/consumers (${r.label})`,
			target: `<= ${RSS_GOAL_MB_PER_PEER} MB`,
			measured: `${r.slope.totalMBPerPeer.toFixed(3)} MB/peer`,
			met: r.slope.totalMBPerPeer <= RSS_GOAL_MB_PER_PEER
		});

		const x = r.levels.map((l) => l.rooms);
		const svg = chart(
			[
				{
					title: `Join time of the 7th peer vs rooms live (${r.label})`,
					xLabel: 'other 7-peer rooms live',
					yLabel: 'ms (WebSocket open -> consumers resumed)',
					xTicks: x,
					series: (['p50', 'p95', 'p99'] as const).map((p) => ({
						name: p,
						markers: true,
						points: r.levels.map((l) => [l.rooms, summarize(l.join.seventh)[p]] as const)
					})),
					hLines: [{ y: JOIN_GOAL_MS, label: `goal: p99 < ${JOIN_GOAL_MS} ms`, color: '#d62728' }]
				},
				{
					title: `Server resident memory vs connected peers (${r.label})`,
					xLabel: 'connected peers (each: 2 transports, 2 producers, 12 consumers)',
					yLabel: 'RSS, MB',
					xTicks: [0, ...r.levels.map((l) => l.memory.peers)],
					series: [
						{ name: 'total (Node + workers)', markers: true, points: [r.baseline, ...r.levels.map((l) => l.memory)].map((m) => [m.peers, m.totalRssMB] as const) },
						{ name: 'Node process', markers: true, points: [r.baseline, ...r.levels.map((l) => l.memory)].map((m) => [m.peers, m.nodeRssMB] as const) },
						{ name: 'mediasoup workers', markers: true, points: [r.baseline, ...r.levels.map((l) => l.memory)].map((m) => [m.peers, m.workersRssMB] as const) },
						{
							name: `goal: ${RSS_GOAL_MB_PER_PEER} MB/peer from baseline`,
							dashed: true,
							color: '#999',
							points: [
								[0, r.baseline.totalRssMB],
								[r.levels.at(-1)!.memory.peers, r.baseline.totalRssMB + RSS_GOAL_MB_PER_PEER * r.levels.at(-1)!.memory.peers]
							]
						}
					]
				}
			],
			{ caption: `slope ${r.slope.totalMBPerPeer.toFixed(3)} MB per peer; ${new Date().toISOString().slice(0, 10)}` }
		);

		plots.push({ file: `scaling${r.label === 'vcall (node)' ? '' : `-${r.label.replace(/\W+/g, '-').replace(/-+$/, '')}`}.svg`, title: `Scaling curve (${r.label})`, svg });
	}

	return finishSection(started, {
		name: 'scaling',
		title: 'Scaling curve (rooms live vs join latency, memory, CPU)',
		tables,
		goals,
		plots,
		data: results
	});
}
