// Benchmark 1 (and its protoo-server comparison): the time a peer takes to
// join a 7-peer room with full media (create/join, capabilities, two
// transports, audio + video producers, consumers of all others resumed)
// while 50 other 7-peer rooms are live, and the server CPU per room joined.

import { emptyRooms, fillRooms, JoinSampler, PEERS_PER_ROOM, readMemory, type JoinMeasurement, type MemoryReading } from './lib/join-load.js';
import type { MediaRoom } from './lib/media-peer.js';
import { fmtRatio, ratio, type BenchContext, type Goal, type Section } from './lib/section.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { startBenchServer, type StackSpec } from './lib/bench-server.js';
import { summarize } from './lib/stats.js';
import type { Table } from './lib/table.js';

export const JOIN_GOAL_MS = 150;

interface StackResult {
	label: string;
	listener: string;
	backgroundRooms: number;
	fillSeconds: number;
	memory: MemoryReading;
	join: JoinMeasurement;
}

export async function runJoin(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const background = ctx.param('joinBackground', 50);
	const samples = ctx.param('joinSamples', ctx.quick ? 30 : 100);
	const results: StackResult[] = [];
	// Every stack is up at once with its background rooms, and the measured
	// rooms alternate between them: on a shared 2-core machine the stacks then
	// meet the same conditions (other processes, thermal, caches).
	const running: { spec: StackSpec; server: ServerProcess; live: MediaRoom[]; fillSeconds: number; memory?: MemoryReading; sampler: JoinSampler }[] = [];

	try {
		for (const spec of ctx.stacks) {
			ctx.log(`join: ${spec.label}: starting server, filling ${background} rooms x ${PEERS_PER_ROOM} peers`);

			const server = await startBenchServer(spec);
			const entry = { spec, server, live: [] as MediaRoom[], fillSeconds: 0, sampler: new JoinSampler(server) };

			running.push(entry);
			entry.fillSeconds = await fillRooms(server, entry.live, background);
			ctx.log(`join: ${spec.label}: ${background} rooms live after ${entry.fillSeconds.toFixed(1)} s`);
		}
		for (const entry of running) (entry as { memory?: MemoryReading }).memory = await readMemory(entry.server);

		ctx.log(`join: measuring ${samples} rooms per stack, alternating ${running.map((r) => r.spec.label).join(' / ')}`);

		const deadline = Date.now() + (ctx.quick ? 240_000 : 900_000);

		for (let i = 0; i < samples && Date.now() < deadline; i++) {
			for (const entry of i % 2 ? [...running].reverse() : running) await entry.sampler.measureRoom();
		}
		for (const entry of running) {
			const join = entry.sampler.result();

			results.push({ label: entry.spec.label, listener: entry.server.listenerReason, backgroundRooms: background, fillSeconds: entry.fillSeconds, memory: entry.memory!, join });
			ctx.log(`join: ${entry.spec.label}: 7th peer p50 ${summarize(join.seventh).p50.toFixed(1)} ms, p99 ${summarize(join.seventh).p99.toFixed(1)} ms`);
		}
	} finally {
		for (const entry of running) {
			await emptyRooms(entry.live).catch(() => undefined);
			await entry.server.stop();
		}
	}

	const tables: Table[] = [];
	const seventh = (r: StackResult) => summarize(r.join.seventh);

	tables.push({
		title: `Join: WebSocket open -> all consumers resumed, 7th peer of a 7-peer room, ${background} other 7-peer rooms live (ms)`,
		headers: ['stack', 'rooms', 'p50', 'p95', 'p99', 'max', 'all settled p99', 'ws connect p99', 'server CPU/room ms', '(node / workers)', 'generator CPU/room ms', 'errors'],
		rows: results.map((r) => [
			r.label,
			r.join.rooms,
			seventh(r).p50,
			seventh(r).p95,
			seventh(r).p99,
			seventh(r).max,
			r.join.seventhSettled.p99,
			r.join.connect.p99,
			r.join.cpuPerRoomMs.total,
			`${r.join.cpuPerRoomMs.node.toFixed(0)} / ${r.join.cpuPerRoomMs.workers.toFixed(0)}`,
			r.join.generatorCpuPerRoomMs,
			r.join.errors
		]),
		notes: [
			'  "all settled": until the 6 others have also consumed and resumed the 7th peer\'s 2 producers.',
			'  The stacks ran side by side (each with its own background rooms) and the measured rooms alternated between them.',
			'  Server CPU = utime+stime of the server\'s Node process + its mediasoup-worker processes (/proc) during the 7 joins of a room.',
			`  Server / generator CPU during the joins: ${results.map((r) => `${r.label} ${r.join.serverCpuPercent.toFixed(0)} % / ${r.join.generatorCpuPercent.toFixed(0)} % of a core (other processes ${r.join.otherCpuPercent.toFixed(0)} %)`).join('; ')}.`
		]
	});

	for (const r of results) {
		tables.push({
			title: `Join by position in the room, ${r.label} (ms, WebSocket open -> all own consumers resumed)`,
			headers: ['peer #', 'consumers', 'p50', 'p95', 'p99', 'max'],
			rows: r.join.byIndex.map((s, i) => [i + 1, i * 2, s.p50, s.p95, s.p99, s.max])
		});
	}

	const baseline = results.find((r) => r.label === 'protoo-server');
	const ours = results.filter((r) => r !== baseline);

	if (baseline && ours.length) {
		tables.push({
			title: 'Join: ours / protoo-server (lower is better)',
			headers: ['stack', '7th p50', '7th p99', 'server CPU/room'],
			rows: ours.map((r) => [
				`${r.label} / protoo-server`,
				fmtRatio(ratio(seventh(r).p50, seventh(baseline).p50)),
				fmtRatio(ratio(seventh(r).p99, seventh(baseline).p99)),
				fmtRatio(ratio(r.join.cpuPerRoomMs.total, baseline.join.cpuPerRoomMs.total))
			])
		});
	}

	const goals: Goal[] = ours.map((r) => ({
		goal: `join p99 of the 7th peer with ${background} other rooms live (${r.label})`,
		target: `< ${JOIN_GOAL_MS} ms`,
		measured: `${seventh(r).p99.toFixed(1)} ms (n=${r.join.rooms}; p50 ${seventh(r).p50.toFixed(1)} ms)`,
		met: seventh(r).p99 < JOIN_GOAL_MS,
		...(r.join.otherCpuPercent > 30
			? { note: `other processes used ${r.join.otherCpuPercent.toFixed(0)} % of a core during the joins; server CPU per join ${(r.join.cpuPerRoomMs.total / PEERS_PER_ROOM).toFixed(0)} ms` }
			: {})
	}));

	return {
		name: 'join',
		title: 'Join latency (7-peer rooms, FakeHandler)',
		date: new Date().toISOString(),
		seconds: (performance.now() - started) / 1000,
		tables,
		goals,
		plots: [],
		data: results.map((r) => ({ ...r, join: { ...r.join, seventhSummary: seventh(r) } }))
	};
}
