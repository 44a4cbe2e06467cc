// Benchmark 2 (and its protoo-server comparison): signaling throughput and
// latency with 100 rooms x 7 peers connected (700 WebSockets that joined
// through protoo requests, no media), cheap requests (heartbeat,
// getRoomInfo): requests/second at saturation (closed loop) and p99 latency
// at half that rate (open loop), and both stacks at the same paced load.

import { finishSection, fmtRatio, ratio, type BenchContext, type Goal, type Section } from './lib/section.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { startBenchServer, type StackSpec } from './lib/bench-server.js';
import { SignalLoad, type LoadResult } from './lib/signal-load.js';
import { sleep } from './lib/stats.js';
import type { Table } from './lib/table.js';

const PEERS = 7;

interface StackResult {
	label: string;
	listener: string;
	connectSeconds: number;
	closed: LoadResult[];
	saturation: LoadResult;
	/** Open loop at half this stack's own saturation rate. */
	halfOwn: LoadResult;
	/** Open loop at half of protoo-server's saturation rate (the same load for every stack). */
	sameLoad?: LoadResult;
	closedRounds: LoadResult[];
	halfOwnRounds: LoadResult[];
	sameLoadRounds?: LoadResult[];
}

/** The element with the median value (the lower middle one for an even count). */
function medianBy<T>(items: T[], value: (item: T) => number): T {
	const sorted = [...items].sort((a, b) => value(a) - value(b));

	return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Per round, the closed-loop window with the highest rate (results are in round order, `perRound` per round). */
function bestPerRound(results: LoadResult[], perRound: number): LoadResult[] {
	const best: LoadResult[] = [];

	for (let i = 0; i < results.length; i += perRound) best.push(results.slice(i, i + perRound).reduce((a, b) => (b.rate > a.rate ? b : a)));

	return best;
}

export async function runThroughput(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const outstandingList = ctx.list('outstanding', ctx.quick ? [4, 16] : [1, 4, 16]);
	const warmupMs = ctx.param('warmupMs', ctx.quick ? 1000 : 2000);
	const measureMs = ctx.param('measureMs', ctx.quick ? 4000 : 8000);
	const openMs = ctx.param('openMs', ctx.quick ? 5000 : 10_000);
	const rounds = ctx.param('rounds', ctx.quick ? 2 : 3);
	const ROOMS = ctx.param('signalRooms', 100);
	const results: StackResult[] = [];
	// Every stack is up at once with its 700 sockets, and the measurement
	// windows alternate between them, round after round: on a shared 2-core
	// machine they then meet the same conditions. Figures are the median round.
	const running: { spec: StackSpec; server: ServerProcess; load: SignalLoad; connectSeconds: number; closed: LoadResult[]; halfOwn: LoadResult[]; sameLoad: LoadResult[] }[] = [];

	try {
		for (const spec of ctx.stacks) {
			const server = await startBenchServer(spec);
			const connectStarted = performance.now();
			let load: SignalLoad;

			try {
				load = await SignalLoad.connect(server, ROOMS, PEERS);
			} catch (error) {
				await server.stop();
				throw error;
			}

			const connectSeconds = (performance.now() - connectStarted) / 1000;

			running.push({ spec, server, load, connectSeconds, closed: [], halfOwn: [], sameLoad: [] });
			ctx.log(`throughput: ${spec.label}: ${load.size} sockets joined in ${connectSeconds.toFixed(1)} s`);
		}
		await sleep(500);

		const alternate = <T>(list: T[], round: number) => (round % 2 ? [...list].reverse() : list);

		for (let round = 0; round < rounds; round++) {
			for (const n of outstandingList) {
				for (const entry of alternate(running, round)) {
					const result = await entry.load.closedLoop(n, warmupMs, measureMs);

					entry.closed.push(result);
					ctx.log(
						`throughput: round ${round + 1}: ${entry.spec.label}: closed loop ${n}/socket: ${result.rate.toFixed(0)} req/s, p99 ${result.latency.p99.toFixed(1)} ms, server ${result.serverCpuUsPerRequest.toFixed(1)} us/req, node ${result.serverCpuPercent.node.toFixed(0)} %, generator ${result.generatorCpuPercent.toFixed(0)} %, others ${result.otherCpuPercent.toFixed(0)} %`
					);
					await sleep(300);
				}
			}
		}

		const saturationOf = (entry: (typeof running)[number]) => medianBy(bestPerRound(entry.closed, outstandingList.length), (r) => r.rate);
		const baseline = running.find((r) => r.spec.stack === 'protoo');
		const baselineRate = baseline ? saturationOf(baseline).rate : undefined;

		for (let round = 0; round < rounds; round++) {
			for (const entry of alternate(running, round)) {
				const own = saturationOf(entry).rate / 2;
				const result = await entry.load.openLoop(own, warmupMs, openMs);

				entry.halfOwn.push(result);
				ctx.log(`throughput: round ${round + 1}: ${entry.spec.label}: open loop ${own.toFixed(0)} req/s: p99 ${result.latency.p99.toFixed(2)} ms`);
				if (baselineRate !== undefined && entry !== baseline) {
					await sleep(300);

					const same = await entry.load.openLoop(baselineRate / 2, warmupMs, openMs);

					entry.sameLoad.push(same);
					ctx.log(`throughput: round ${round + 1}: ${entry.spec.label}: open loop ${(baselineRate / 2).toFixed(0)} req/s (protoo-server's half): p99 ${same.latency.p99.toFixed(2)} ms`);
				}
				await sleep(300);
			}
		}

		for (const entry of running) {
			const sameLoad = entry.sameLoad.length ? medianBy(entry.sameLoad, (r) => r.latency.p99) : undefined;

			results.push({
				label: entry.spec.label,
				listener: entry.server.listenerReason,
				connectSeconds: entry.connectSeconds,
				closed: outstandingList.map((n) => medianBy(entry.closed.filter((r) => r.parameter === n), (r) => r.rate)),
				closedRounds: entry.closed,
				saturation: saturationOf(entry),
				halfOwn: medianBy(entry.halfOwn, (r) => r.latency.p99),
				halfOwnRounds: entry.halfOwn,
				...(sameLoad ? { sameLoad, sameLoadRounds: entry.sameLoad } : {})
			});
		}
	} finally {
		for (const entry of running) {
			entry.load.close();
			await entry.server.stop();
		}
	}

	// Print ours first, as everywhere else.
	results.sort((a, b) => Number(a.label === 'protoo-server') - Number(b.label === 'protoo-server'));

	const tables: Table[] = [];

	const span = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;

	tables.push({
		title: `Signaling throughput, closed loop: ${ROOMS} rooms x ${PEERS} peers = ${ROOMS * PEERS} WebSockets, heartbeat + getRoomInfo (median of ${rounds} rounds)`,
		headers: ['stack', 'outstanding/socket', 'req/s', 'req/s range', 'p50 ms', 'p99 ms', 'server node CPU %', 'workers CPU %', 'server CPU us/req', 'generator CPU %', 'other procs CPU %', 'errors'],
		rows: results.flatMap((r) =>
			r.closed.map((c) => [
				r.label,
				c.parameter,
				Math.round(c.rate),
				span(r.closedRounds.filter((x) => x.parameter === c.parameter).map((x) => x.rate)),
				c.latency.p50,
				c.latency.p99,
				c.serverCpuPercent.node,
				c.serverCpuPercent.workers,
				c.serverCpuUsPerRequest,
				c.generatorCpuPercent,
				c.otherCpuPercent,
				c.errors
			])
		),
		notes: [
			`  The stacks ran side by side, ${measureMs / 1000} s windows alternating between them in each of ${rounds} rounds; each row is the round with the median rate.`,
			'  CPU % is of one core (100 % = one core busy); the machine has 2 cores shared by the server, its workers, the generator and any other process ("other procs", from /proc/stat).',
			"  server CPU us/req = (Node + workers CPU time) / requests answered: the server's cost per request, whoever limited the rate."
		]
	});

	const openRow = (r: StackResult, load: string, x: LoadResult, all: LoadResult[]) => [
		r.label,
		load,
		Math.round(x.parameter),
		Math.round(x.rate),
		x.latency.p50,
		x.latency.p95,
		x.latency.p99,
		span(all.map((y) => y.latency.p99), 1),
		x.latency.max,
		x.serverCpuPercent.node,
		x.generatorCpuPercent,
		x.otherCpuPercent,
		x.generatorLagMaxMs
	];
	const openRows = results.flatMap((r) => [
		openRow(r, 'half own saturation', r.halfOwn, r.halfOwnRounds),
		...(r.sameLoad ? [openRow(r, "half protoo-server's saturation", r.sameLoad, r.sameLoadRounds ?? [])] : [])
	]);

	tables.push({
		title: `Signaling latency, open loop (paced; latency from the scheduled send time; median p99 of ${rounds} rounds)`,
		headers: ['stack', 'load', 'target req/s', 'answered req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99 range', 'max ms', 'server node CPU %', 'generator CPU %', 'other procs CPU %', 'generator lag max ms'],
		rows: openRows
	});

	const baseline = results.find((r) => r.label === 'protoo-server');
	const ours = results.filter((r) => r !== baseline);
	const goals: Goal[] = [];

	if (baseline) {
		const cpuAt = (r: StackResult, n: number) => r.closed.find((c) => c.parameter === n)?.serverCpuUsPerRequest ?? Number.NaN;

		tables.push({
			title: 'Signaling: ours / protoo-server',
			headers: [
				'stack',
				'saturation req/s (higher better)',
				'p99 at the same load (lower better)',
				'p99 at half own saturation',
				...outstandingList.map((n) => `server CPU/request, ${n} outstanding (lower better)`)
			],
			rows: ours.map((r) => [
				`${r.label} / protoo-server`,
				fmtRatio(ratio(r.saturation.rate, baseline.saturation.rate)),
				r.sameLoad ? fmtRatio(ratio(r.sameLoad.latency.p99, baseline.halfOwn.latency.p99)) : 'n/a',
				fmtRatio(ratio(r.halfOwn.latency.p99, baseline.halfOwn.latency.p99)),
				...outstandingList.map((n) => fmtRatio(ratio(cpuAt(r, n), cpuAt(baseline, n))))
			]),
			notes: ['  CPU per request compares the same closed loop (same N outstanding per socket): it depends little on what else runs on the machine, unlike rates and latencies.']
		});

		for (const r of ours) {
			const throughputRatio = ratio(r.saturation.rate, baseline.saturation.rate);
			const p99Ratio = r.sameLoad ? ratio(r.sameLoad.latency.p99, baseline.halfOwn.latency.p99) : Number.NaN;
			const generatorBound = r.saturation.generatorCpuPercent > 90 && r.saturation.serverCpuPercent.node < 90;
			const others = Math.max(r.saturation.otherCpuPercent, baseline.saturation.otherCpuPercent);
			const cpuRatios = outstandingList.map((n) => ratio(cpuAt(baseline, n), cpuAt(r, n))).filter(Number.isFinite);
			const disturbed = others > 30 ? `other processes used ${others.toFixed(0)} % of a core during these windows; ` : '';
			const lag = Math.max(r.sameLoad?.generatorLagMaxMs ?? 0, baseline.halfOwn.generatorLagMaxMs ?? 0);

			goals.push({
				goal: `signaling throughput at saturation vs protoo-server (${r.label})`,
				target: '>= 2x',
				measured: `${fmtRatio(throughputRatio)} (${Math.round(r.saturation.rate)} vs ${Math.round(baseline.saturation.rate)} req/s)`,
				met: throughputRatio >= 2,
				note: `${disturbed}${generatorBound ? 'the load generator, not the server, was the busier process; ' : ''}server CPU per request: protoo-server / ours = ${cpuRatios.map((x) => fmtRatio(x)).join(', ')} (at ${outstandingList.join(', ')} outstanding)`
			});
			goals.push({
				goal: `signaling p99 at the same paced load vs protoo-server (${r.label})`,
				target: '<= 0.5x',
				measured: r.sameLoad
					? `${fmtRatio(p99Ratio)} (${r.sameLoad.latency.p99.toFixed(2)} vs ${baseline.halfOwn.latency.p99.toFixed(2)} ms at ${Math.round(r.sameLoad.parameter)} req/s)`
					: 'n/a',
				met: Number.isFinite(p99Ratio) ? p99Ratio <= 0.5 : undefined,
				...(lag > 50 ? { invalid: true } : {}),
				...(disturbed || lag > 50
					? { note: `${disturbed}${lag > 50 ? `the generator fell up to ${lag.toFixed(0)} ms behind its schedule: not a valid latency measurement` : ''}`.replace(/; $/, '') }
					: {})
			});
		}
	}

	return finishSection(started, {
		name: 'throughput',
		title: 'Signaling throughput and latency (700 WebSockets)',
		tables,
		goals,
		data: results
	});
}
