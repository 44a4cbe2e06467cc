// Benchmark: what the cluster relay costs. Two nodes on one Redis: "host"
// hosts every room, "edge" (CLUSTER_HOSTS_ROOMS=false) only relays. The same
// load runs direct (clients on host) and relayed (clients on edge, every
// request through Redis to host), alternating in one run:
// - join: 7-peer rooms joined peer by peer with full media (FakeHandler),
//   the 7th peer's join time and the CPU of both nodes per room;
// - signaling: rooms x 7 raw clients, closed-loop saturation and an open loop
//   at one paced rate (p99), CPU of both nodes per request;
// - placement: createRoom rate through three cluster nodes beside one node alone.

import type { ConfigInput } from '../../lib/config/options.js';
import { cpuBetween, machineNote, startCpuMeter, startMachineMeter } from '../helpers/proc.js';
import { RedisServer } from '../helpers/redis.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { startBenchServer, type StackSpec } from './lib/bench-server.js';
import { PEERS_PER_ROOM } from './lib/join-load.js';
import { MediaRoom } from './lib/media-peer.js';
import { RawProtooClient } from './lib/rawws.js';
import { finishSection, fmtRatio, ratio, type BenchContext, type Section } from './lib/section.js';
import { SignalLoad, type LoadResult } from './lib/signal-load.js';
import { pool, summarize, type Summary } from './lib/stats.js';
import type { Table } from './lib/table.js';

type Mode = 'direct' | 'relayed';

/** Limits a benchmark must not hit: the load comes from one address, and a joining peer consumes the six others' twelve producers at once. */
const UNLIMITED: ConfigInput = {
	roomCreatesPerMinute: 1_000_000,
	requestRate: 1_000_000,
	requestBurst: 1_000_000,
	maxRequestsInFlight: 10_000,
	maxConnectionsPerIp: 100_000,
	maxRooms: 100_000,
	maxPeers: 1_000_000
};

/** CPU seconds of several server processes (Node + workers), and of redis-server, while `task` runs. */
async function cpuOf<T>(servers: ServerProcess[], redis: RedisServer, task: () => Promise<T>): Promise<{ value: T; cpu: number; redisCpu: number }> {
	const before = servers.map((s) => s.sample());
	const redisMeter = startCpuMeter({ redis: redis.pid ?? 0 });
	const began = performance.now();
	const value = await task();
	const redisCpu = ((redisMeter.stop().redis ?? 0) * (performance.now() - began)) / 100_000;
	const cpu = servers.reduce((sum, s, i) => sum + cpuBetween(before[i]!, s.sample()).total, 0);

	return { value, cpu, redisCpu };
}

interface JoinResult {
	seventh: Summary;
	rooms: number;
	cpuPerRoomMs: number;
	redisPerRoomMs: number;
}

interface SignalResult {
	saturation: LoadResult;
	paced: LoadResult;
	/** Both nodes' Node processes and workers. */
	cpuUsPerRequest: number;
	redisUsPerRequest: number;
}

export async function runCluster(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const spec: StackSpec = ctx.stacks.find((s) => s.stack === 'vcall') ?? { label: 'vcall (node)', stack: 'vcall', listener: 'node' };
	const joinRooms = ctx.param('clusterJoinRooms', ctx.quick ? 10 : 30);
	const signalRooms = ctx.param('clusterSignalRooms', 20);
	const measureMs = ctx.param('measureMs', ctx.quick ? 3000 : 6000);
	const pacedRate = ctx.param('clusterPacedRate', 1000);
	const createCount = ctx.param('clusterRooms', ctx.quick ? 100 : 300);
	const redis = await RedisServer.start();
	const servers: ServerProcess[] = [];
	const start = async (overrides: ConfigInput) => {
		const server = await startBenchServer(spec, { ...UNLIMITED, redisUrl: redis.url, ...overrides });

		servers.push(server);

		return server;
	};
	const joins: Record<Mode, { seventh: number[]; cpu: number; redisCpu: number }> = { direct: { seventh: [], cpu: 0, redisCpu: 0 }, relayed: { seventh: [], cpu: 0, redisCpu: 0 } };
	const signal = {} as Record<Mode, SignalResult>;
	const placement: { label: string; seconds: number; rooms: number }[] = [];
	const machine = startMachineMeter();

	try {
		const host = await start({ nodeId: 'host', rtcMinPort: 47000, rtcMaxPort: 47499 });
		const edge = await start({ nodeId: 'edge', clusterHostsRooms: false, rtcMinPort: 47500, rtcMaxPort: 47999 });
		const pair = [host, edge];
		const urls: Record<Mode, string> = { direct: host.url, relayed: edge.url };

		ctx.log(`cluster: join, ${joinRooms} rooms of ${PEERS_PER_ROOM} per mode, alternating direct / relayed`);
		for (let i = 0; i < joinRooms * 2; i++) {
			const mode: Mode = i % 2 ? 'relayed' : 'direct';
			const room = new MediaRoom();
			const { cpu, redisCpu } = await cpuOf(pair, redis, async () => {
				for (let p = 0; p < PEERS_PER_ROOM; p++) await room.add(urls[mode], { measureSettle: true });
			});

			joins[mode].seventh.push(room.timings[PEERS_PER_ROOM - 1]!.joinMs);
			joins[mode].cpu += cpu;
			joins[mode].redisCpu += redisCpu;
			await room.leave();
		}

		ctx.log(`cluster: signaling, ${signalRooms} rooms x ${PEERS_PER_ROOM} clients per mode`);
		for (const mode of ['direct', 'relayed'] as const) {
			const load = await SignalLoad.connect(host, signalRooms, PEERS_PER_ROOM, 25, urls[mode]);

			try {
				await load.closedLoop(4, 0, 1000);

				const { value: saturation, cpu, redisCpu } = await cpuOf(pair, redis, () => load.closedLoop(4, 0, measureMs));
				const paced = await load.openLoop(pacedRate, 1000, measureMs);

				signal[mode] = { saturation, paced, cpuUsPerRequest: (cpu * 1e6) / saturation.completed, redisUsPerRequest: (redisCpu * 1e6) / saturation.completed };
				ctx.log(`cluster: ${mode}: ${saturation.rate.toFixed(0)} req/s, p99 at ${pacedRate}/s ${paced.latency.p99.toFixed(2)} ms`);
			} finally {
				load.close();
			}
		}
		await Promise.all(pair.map((s) => s.stop()));

		ctx.log(`cluster: placement, ${createCount} createRoom through one node alone, then through three cluster nodes`);
		const alone = await startBenchServer(spec, { ...UNLIMITED, rtcMinPort: 47000, rtcMaxPort: 47299 });

		servers.push(alone);
		placement.push({ label: 'one node (no cluster)', ...(await createRooms([alone.url], createCount)) });
		await alone.stop();

		const three = await Promise.all([0, 1, 2].map((i) => start({ nodeId: `p${i}`, rtcMinPort: 47000 + i * 300, rtcMaxPort: 47299 + i * 300 })));

		placement.push({ label: 'three nodes (cluster)', ...(await createRooms(three.map((s) => s.url), createCount)) });
	} finally {
		await Promise.all(servers.map((s) => s.stop()));
		await redis.stop();
	}

	const busy = machine.stop();
	const join = (mode: Mode): JoinResult => {
		const { seventh, cpu, redisCpu } = joins[mode];

		return { seventh: summarize(seventh), rooms: seventh.length, cpuPerRoomMs: (cpu * 1000) / seventh.length, redisPerRoomMs: (redisCpu * 1000) / seventh.length };
	};
	const direct = join('direct');
	const relayed = join('relayed');
	const tables: Table[] = [
		{
			title: `Cluster join: 7th peer of a 7-peer room, WebSocket open -> all consumers resumed (ms), ${spec.label}`,
			headers: ['mode', 'rooms', 'p50', 'p95', 'p99', 'max', 'CPU/room ms (both nodes)', 'Redis CPU/room ms'],
			rows: [direct, relayed].map((r, i) => [i ? 'relayed (edge -> host)' : 'direct (host)', r.rooms, r.seventh.p50, r.seventh.p95, r.seventh.p99, r.seventh.max, r.cpuPerRoomMs, r.redisPerRoomMs]),
			notes: ['  CPU = utime+stime of both nodes\' Node processes and workers during the 7 joins (/proc); the edge only relays.', `  ${machineNote(busy)} (whole run).`]
		},
		{
			title: `Cluster signaling: ${signalRooms} rooms x ${PEERS_PER_ROOM} clients, heartbeat/getRoomInfo`,
			headers: ['mode', 'req/s (4 outstanding/socket)', 'p50 ms', 'p99 ms', `p99 ms at ${pacedRate}/s`, 'CPU us/request (both nodes)', 'Redis us/request', 'errors'],
			rows: (['direct', 'relayed'] as const).map((mode) => {
				const r = signal[mode];

				return [mode, r.saturation.rate, r.saturation.latency.p50, r.saturation.latency.p99, r.paced.latency.p99, r.cpuUsPerRequest, r.redisUsPerRequest, r.saturation.errors + r.paced.errors];
			})
		},
		{
			title: 'Relay cost (relayed - direct)',
			headers: ['figure', 'direct', 'relayed', 'relayed / direct', 'cost per request'],
			rows: [
				['join p99 (ms)', direct.seventh.p99, relayed.seventh.p99, fmtRatio(ratio(relayed.seventh.p99, direct.seventh.p99)), undefined],
				['CPU per room joined (ms)', direct.cpuPerRoomMs, relayed.cpuPerRoomMs, fmtRatio(ratio(relayed.cpuPerRoomMs, direct.cpuPerRoomMs)), undefined],
				['signaling req/s', signal.direct.saturation.rate, signal.relayed.saturation.rate, fmtRatio(ratio(signal.relayed.saturation.rate, signal.direct.saturation.rate)), undefined],
				[
					'CPU per request (us)',
					signal.direct.cpuUsPerRequest,
					signal.relayed.cpuUsPerRequest,
					fmtRatio(ratio(signal.relayed.cpuUsPerRequest, signal.direct.cpuUsPerRequest)),
					`${(signal.relayed.cpuUsPerRequest - signal.direct.cpuUsPerRequest).toFixed(0)} us on the nodes + ${signal.relayed.redisUsPerRequest.toFixed(0)} us in Redis`
				],
				[
					`p50 latency at ${pacedRate}/s (ms)`,
					signal.direct.paced.latency.p50,
					signal.relayed.paced.latency.p50,
					fmtRatio(ratio(signal.relayed.paced.latency.p50, signal.direct.paced.latency.p50)),
					`${(signal.relayed.paced.latency.p50 - signal.direct.paced.latency.p50).toFixed(2)} ms`
				]
			]
		},
		{
			title: `Placement: ${createCount} createRoom (connect, createRoom), 10 at a time, clients spread over the nodes`,
			headers: ['setup', 'rooms', 'seconds', 'rooms/s'],
			rows: placement.map((p) => [p.label, p.rooms, p.seconds, p.rooms / p.seconds]),
			notes: [`  three / one: ${fmtRatio(ratio(placement[1]!.rooms / placement[1]!.seconds, placement[0]!.rooms / placement[0]!.seconds))}; all nodes share this machine's 2 cores, so this shows the placement overhead, not added capacity.`]
		}
	];

	return finishSection(started, {
		name: 'cluster',
		title: 'Cluster: relayed beside direct, placement across nodes',
		tables,
		data: { direct, relayed, signal, placement, machineBusyPercent: busy }
	});
}

/** Creates `count` rooms, each by a new connection to the next node in turn; returns the wall time. */
async function createRooms(urls: string[], count: number): Promise<{ seconds: number; rooms: number }> {
	const clients: RawProtooClient[] = [];
	const began = performance.now();
	let rooms = 0;

	try {
		await pool(Array.from({ length: count }, (_, i) => i), 10, async (i) => {
			const client = await RawProtooClient.connect(urls[i % urls.length]!);

			clients.push(client);
			await client.request('createRoom', { metadata: {} });
			rooms++;
		});
	} finally {
		for (const client of clients) client.close();
	}

	return { seconds: (performance.now() - began) / 1000, rooms };
}
