// Benchmark 6: soak. Peers join (full media), replace producers, leave or
// drop their connection, in a loop for --soak-seconds; the server's RSS (Node
// and workers) and open file descriptors are sampled every few seconds. At
// the end every peer is gone and the server must hold no room, peer or
// mediasoup object (its /health counts and the workers' dump()).

import type { Inspection } from '../helpers/server-process.js';
import { consumeErrorSamples, MediaPeer } from './lib/media-peer.js';
import { finishSection, type BenchContext, type Goal, type Section } from './lib/section.js';
import { cpuBetween, selfCpuSeconds, type ServerSample } from '../helpers/proc.js';
import { startBenchServer } from './lib/bench-server.js';
import { linearRegression, mb, sleep, withTimeout } from './lib/stats.js';
import { chart } from './lib/svg.js';
import type { Table } from './lib/table.js';
import type { HealthState } from '../../lib/http/endpoints.js';

const RECONNECT_GRACE_S = 1;
const ROOM_IDLE_S = 1;
const MAX_ITERATIONS_PER_LANE = 100_000;

interface SoakSample {
	seconds: number;
	nodeRssMB: number;
	workersRssMB: number;
	nodeFds: number;
	workersFds: number;
	rooms: number;
	peers: number;
	transports: number;
	producers: number;
	consumers: number;
}

interface Counters {
	joins: number;
	created: number;
	leaves: number;
	drops: number;
	producerReplacements: number;
	/** Failed iterations (join, producer replacement or settle). */
	errors: number;
	/** Consumptions of producers closed meanwhile (404): expected under churn. */
	benignRaces: number;
	/** newProducer consumptions that failed otherwise. */
	consumeErrors: number;
	/** resumeConsumer answered 488 "handler not found" (the consumer's producer had just closed). */
	raced488: number;
	firstErrors: string[];
}

function random(min: number, max: number): number {
	return min + Math.random() * (max - min);
}

export async function runSoak(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const spec = ctx.stacks.find((s) => s.stack === 'vcall')!;
	const seconds = ctx.soakSeconds;
	const lanes = ctx.param('soakLanes', 10);
	const sampleEveryMs = seconds <= 120 ? 2000 : 5000;
	const server = await startBenchServer(spec, { reconnectGrace: RECONNECT_GRACE_S, roomIdleTimeout: ROOM_IDLE_S });
	const samples: SoakSample[] = [];
	const counters: Counters = { joins: 0, created: 0, leaves: 0, drops: 0, producerReplacements: 0, errors: 0, benignRaces: 0, consumeErrors: 0, raced488: 0, firstErrors: [] };
	let atStart: Inspection;
	let atEnd: Inspection;
	let fdsAtStart: { node: number; workers: number };
	let fdsAtEnd: { node: number; workers: number };
	let drained = false;
	let cpuAtStart: { server: ServerSample; self: number };
	let cpuUsed = { node: 0, workers: 0, total: 0, machine: 0, generator: 0, seconds: 1 };
	let drainSeconds = 0;

	try {
		atStart = await server.inspect();

		const first = server.sample();

		fdsAtStart = { node: first.nodeFds, workers: first.workersFds };

		const t0 = performance.now();

		cpuAtStart = { server: server.sample(), self: selfCpuSeconds() };

		const deadline = t0 + seconds * 1000;
		/** Runner-side occupancy of each room (a dropped peer keeps its seat through the grace). */
		const occupancy = new Map<string, number>();
		const release = (roomId: string) => {
			const left = (occupancy.get(roomId) ?? 1) - 1;

			if (left <= 0) occupancy.delete(roomId);
			else occupancy.set(roomId, left);
		};
		const pickRoom = (): string | undefined => {
			for (const [roomId, seats] of occupancy) {
				if (seats < 7) {
					occupancy.set(roomId, seats + 1);

					return roomId;
				}
			}

			return undefined;
		};
		const fail = (error: unknown) => {
			counters.errors++;
			if (counters.firstErrors.length < 5) counters.firstErrors.push(String((error as Error)?.message ?? error));
		};

		const sampler = (async () => {
			while (performance.now() < deadline) {
				const s = server.sample();
				const health = await server.getJson<HealthState>('/health').catch(() => undefined);

				samples.push({
					seconds: (performance.now() - t0) / 1000,
					nodeRssMB: mb(s.nodeRss),
					workersRssMB: mb(s.workersRss),
					nodeFds: s.nodeFds,
					workersFds: s.workersFds,
					rooms: health?.rooms ?? Number.NaN,
					peers: health?.peers ?? Number.NaN,
					transports: health?.media.transports ?? Number.NaN,
					producers: health?.media.producers ?? Number.NaN,
					consumers: health?.media.consumers ?? Number.NaN
				});
				await sleep(Math.min(sampleEveryMs, Math.max(0, deadline - performance.now())));
			}
		})();

		const lane = async () => {
			for (let i = 0; i < MAX_ITERATIONS_PER_LANE && performance.now() < deadline; i++) {
				let roomId = pickRoom();
				let member: MediaPeer | undefined;
				let failed = false;

				try {
					member = (await MediaPeer.join(server.url, roomId, { tolerateGone: true })).member;
					counters.joins++;
					if (!roomId) {
						roomId = member.roomId;
						occupancy.set(roomId, 1);
						counters.created++;
					}
					await sleep(random(300, 2000));
					if (Math.random() < 0.5) {
						await member.replaceProducer(Math.random() < 0.5 ? 'audio' : 'video');
						counters.producerReplacements++;
						await sleep(random(100, 800));
					}
					await withTimeout(member.settled(), 20_000, 'consumers settled');
				} catch (error) {
					failed = true;
					fail(error);
				}

				if (member) {
					counters.benignRaces += member.gone;
					counters.consumeErrors += member.errors;
					counters.raced488 += member.raced;
				}

				const id = roomId;

				if (member && !failed && Math.random() >= 0.3) {
					await member.leave().catch(fail);
					counters.leaves++;
					if (id) release(id);
				} else {
					// A dropped connection (on purpose, or a failed join that
					// may have joined) keeps its seat through the grace.
					member?.drop();
					if (member && !failed) counters.drops++;
					if (id) setTimeout(() => release(id), (RECONNECT_GRACE_S + 0.5) * 1000);
					if (failed) await sleep(200);
				}
			}
		};

		await Promise.all(Array.from({ length: lanes }, lane));
		await sampler;
		cpuUsed = { ...cpuBetween(cpuAtStart.server, server.sample()), generator: selfCpuSeconds() - cpuAtStart.self, seconds: (performance.now() - t0) / 1000 };

		// Everyone is gone: wait for the graces and idle rooms to expire.
		const drainStarted = performance.now();

		for (let i = 0; i < 150; i++) {
			const health = await server.getJson<HealthState>('/health');

			if (health.rooms === 0 && health.peers === 0 && health.media.transports + health.media.producers + health.media.consumers === 0) {
				drained = true;
				break;
			}
			await sleep(200);
		}
		drainSeconds = (performance.now() - drainStarted) / 1000;
		await server.gc();
		await sleep(1000);
		atEnd = await server.inspect();

		const last = server.sample();

		fdsAtEnd = { node: last.nodeFds, workers: last.workersFds };
		samples.push({
			seconds: (performance.now() - t0) / 1000,
			nodeRssMB: mb(last.nodeRss),
			workersRssMB: mb(last.workersRss),
			nodeFds: last.nodeFds,
			workersFds: last.workersFds,
			rooms: atEnd.rooms,
			peers: atEnd.peers,
			...atEnd.media
		});
	} finally {
		await server.stop();
	}

	const runSamples = samples.slice(0, -1);
	const warmup = Math.min(120, seconds * 0.25);
	const steady = runSamples.filter((s) => s.seconds >= warmup);
	const slope = (pick: (s: SoakSample) => number) => linearRegression(steady.map((s) => [s.seconds / 3600, pick(s)])).slope;
	const slopes = {
		totalMBPerHour: slope((s) => s.nodeRssMB + s.workersRssMB),
		nodeMBPerHour: slope((s) => s.nodeRssMB),
		workersMBPerHour: slope((s) => s.workersRssMB),
		nodeFdsPerHour: slope((s) => s.nodeFds)
	};
	const sumWorkers = (inspection: Inspection, key: keyof Inspection['workers'][number]) => inspection.workers.reduce((sum, w) => sum + w[key], 0);
	const leftovers: [string, number, number][] = [
		['rooms', atStart.rooms, atEnd.rooms],
		['sessions (open connections)', atStart.sessions, atEnd.sessions],
		['peers', atStart.peers, atEnd.peers],
		['transports', atStart.media.transports, atEnd.media.transports],
		['producers', atStart.media.producers, atEnd.media.producers],
		['consumers', atStart.media.consumers, atEnd.media.consumers],
		['routers (workers dump)', sumWorkers(atStart, 'routers'), sumWorkers(atEnd, 'routers')],
		['WebRtcServer transports (dump)', sumWorkers(atStart, 'webRtcServerTransports'), sumWorkers(atEnd, 'webRtcServerTransports')],
		['WebRtcServer ICE usernames (dump)', sumWorkers(atStart, 'webRtcServerIceFragments'), sumWorkers(atEnd, 'webRtcServerIceFragments')],
		['worker channel request handlers', sumWorkers(atStart, 'channelRequestHandlers'), sumWorkers(atEnd, 'channelRequestHandlers')],
		['worker channel notification handlers', sumWorkers(atStart, 'channelNotificationHandlers'), sumWorkers(atEnd, 'channelNotificationHandlers')],
		['Node open fds', fdsAtStart.node, fdsAtEnd.node],
		['worker open fds', fdsAtStart.workers, fdsAtEnd.workers],
		['Node active handles', atStart.activeHandles, atEnd.activeHandles]
	];
	const objectsLeft = leftovers.slice(0, 9).reduce((sum, [, , end]) => sum + end, 0);
	const handlersGrew = leftovers.slice(9, 11).some(([, start, end]) => end > start);
	const peak = runSamples.reduce((best, s) => (s.peers > best.peers ? s : best), runSamples[0]!);
	const first = runSamples[0]!;
	const lastRun = runSamples.at(-1)!;

	const tables: Table[] = [
		{
			title: `Soak: ${seconds} s of churn, ${lanes} lanes (${spec.label}); reconnect grace ${RECONNECT_GRACE_S} s, room idle timeout ${ROOM_IDLE_S} s`,
			headers: ['joins', 'rooms created', 'leaveRoom', 'dropped sockets', 'producers replaced', 'failed iterations', 'consume errors', 'closed producer: 404', 'closed producer: 488', 'peak peers', 'samples'],
			rows: [[counters.joins, counters.created, counters.leaves, counters.drops, counters.producerReplacements, counters.errors, counters.consumeErrors, counters.benignRaces, counters.raced488, peak?.peers ?? 0, runSamples.length]],
			notes: [
				`  CPU during the churn, % of one core: server Node ${((cpuUsed.node / cpuUsed.seconds) * 100).toFixed(0)} %, workers ${((cpuUsed.workers / cpuUsed.seconds) * 100).toFixed(0)} %, generator ${((cpuUsed.generator / cpuUsed.seconds) * 100).toFixed(0)} %, other processes ${((Math.max(0, cpuUsed.machine - cpuUsed.total - cpuUsed.generator) / cpuUsed.seconds) * 100).toFixed(0)} %.`,
				'  "closed producer": a newProducer arrived but the producer closed before consume/resumeConsumer, a race every client meets under churn;',
				'  answered 404; 488 "Channel request handler ... not found" was the answer to resumeConsumer before commit baec1cb (the worker had closed the consumer first) and should stay 0.',
				...(counters.firstErrors.length ? [`  first errors: ${counters.firstErrors.join(' | ')}`] : []),
				...(consumeErrorSamples.length ? [`  first consume errors: ${consumeErrorSamples.join(' | ')}`] : [])
			]
		},
		{
			title: `Soak memory: RSS after a ${warmup.toFixed(0)} s warm-up, least-squares slope`,
			headers: ['process', 'first MB', `at ${warmup.toFixed(0)} s MB`, 'last MB', 'end (all gone, GC) MB', 'slope MB/hour'],
			rows: [
				['Node', first.nodeRssMB, steady[0]?.nodeRssMB, lastRun.nodeRssMB, samples.at(-1)!.nodeRssMB, slopes.nodeMBPerHour],
				['workers', first.workersRssMB, steady[0]?.workersRssMB, lastRun.workersRssMB, samples.at(-1)!.workersRssMB, slopes.workersMBPerHour],
				[
					'total',
					first.nodeRssMB + first.workersRssMB,
					steady[0] ? steady[0].nodeRssMB + steady[0].workersRssMB : undefined,
					lastRun.nodeRssMB + lastRun.workersRssMB,
					samples.at(-1)!.nodeRssMB + samples.at(-1)!.workersRssMB,
					slopes.totalMBPerHour
				]
			]
		},
		{
			title: `Soak leftovers: before the churn and after every peer is gone (waited ${drainSeconds.toFixed(1)} s for graces and idle rooms)`,
			headers: ['object', 'before', 'after'],
			rows: leftovers.map(([name, start, end]) => [name, start, end])
		}
	];
	const goals: Goal[] = [
		{
			goal: 'mediasoup objects, rooms and peers left after the soak (all peers gone)',
			target: '0',
			measured: `${objectsLeft}${drained ? '' : ' (the server never reported empty)'}`,
			met: objectsLeft === 0 && drained && !handlersGrew,
			...(handlersGrew ? { note: 'worker channel handlers grew' } : {})
		},
		{
			goal: `RSS slope after warm-up during the soak (${spec.label})`,
			target: 'flat (no steady growth)',
			measured: `${slopes.totalMBPerHour.toFixed(1)} MB/hour over ${(seconds - warmup).toFixed(0)} s`,
			// A leak shows as steady growth; allow noise of a few MB per hour on a short run.
			met: undefined,
			note: 'informational: compare with the Node/worker split and the plot'
		}
	];
	const minutes = (s: SoakSample) => s.seconds / 60;
	const svg = chart(
		[
			{
				title: `Soak: server resident memory over time (${spec.label})`,
				xLabel: 'minutes',
				yLabel: 'RSS, MB',
				series: [
					{ name: 'total', points: samples.map((s) => [minutes(s), s.nodeRssMB + s.workersRssMB] as const) },
					{ name: 'Node process', points: samples.map((s) => [minutes(s), s.nodeRssMB] as const) },
					{ name: 'mediasoup workers', points: samples.map((s) => [minutes(s), s.workersRssMB] as const) }
				]
			},
			{
				title: 'Soak: open file descriptors and live peers',
				xLabel: 'minutes',
				yLabel: 'count',
				series: [
					{ name: 'Node fds', points: samples.map((s) => [minutes(s), s.nodeFds] as const) },
					{ name: 'worker fds', points: samples.map((s) => [minutes(s), s.workersFds] as const) },
					{ name: 'peers live', points: samples.map((s) => [minutes(s), s.peers] as const), dashed: true }
				]
			}
		],
		{ caption: `RSS slope after ${warmup.toFixed(0)} s warm-up: ${slopes.totalMBPerHour.toFixed(1)} MB/hour; last point: all peers gone, after GC` }
	);

	return finishSection(started, {
		name: 'soak',
		title: 'Soak (churn)',
		tables,
		goals,
		plots: [{ file: 'soak-memory.svg', title: 'Soak: memory and file descriptors over time', svg }],
		data: { seconds, lanes, counters, cpuUsed, slopes, warmupSeconds: warmup, drained, drainSeconds, leftovers: Object.fromEntries(leftovers.map(([n, s, e]) => [n, { before: s, after: e }])), samples }
	});
}
