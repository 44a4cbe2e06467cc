// The join measurement shared by the join and scaling benchmarks: keep
// background 7-peer rooms live (full media setup, FakeHandler), then join
// measured rooms one peer after the other and time each join.

import { cpuBetween, selfCpuSeconds, type ServerSample } from '../../helpers/proc.js';
import { MediaRoom } from './media-peer.js';
import type { ServerProcess } from '../../helpers/server-process.js';
import { mb, pool, sleep, summarize, type Summary } from './stats.js';

export const PEERS_PER_ROOM = 7;

/** Adds background rooms until `target` are live; returns the seconds it took. */
export async function fillRooms(server: ServerProcess, live: MediaRoom[], target: number, concurrency = 4): Promise<number> {
	const started = performance.now();
	const missing = Math.max(0, target - live.length);

	await pool(Array.from({ length: missing }), concurrency, async () => {
		live.push(await MediaRoom.fill(server.url, PEERS_PER_ROOM));
	});

	return (performance.now() - started) / 1000;
}

export interface MemoryReading {
	rooms: number;
	peers: number;
	nodeRssMB: number;
	workersRssMB: number;
	totalRssMB: number;
	media: { transports: number; producers: number; consumers: number };
}

/** RSS of the server after a forced GC and a short pause, with what is live. */
export async function readMemory(server: ServerProcess): Promise<MemoryReading> {
	await server.gc();
	await sleep(1000);

	const sample = server.sample();
	const inspection = await server.inspect();

	return {
		rooms: inspection.rooms,
		peers: inspection.peers,
		nodeRssMB: mb(sample.nodeRss),
		workersRssMB: mb(sample.workersRss),
		totalRssMB: mb(sample.nodeRss + sample.workersRss),
		media: inspection.media
	};
}

export interface JoinMeasurement {
	rooms: number;
	/** Per join index (1..7): WebSocket open to all consumers resumed, ms. */
	byIndex: Summary[];
	/** The 7th peer's join times, ms (raw, for the table and percentiles). */
	seventh: number[];
	/** 7th peer: open until every member consumed the newcomer's producers. */
	seventhSettled: Summary;
	connect: Summary;
	/** Server CPU ms per measured room joined (7 joins, incl. the others consuming). */
	cpuPerRoomMs: { node: number; workers: number; total: number };
	/** Server CPU ms for all the measured rooms' leaves, per room. */
	cpuLeavePerRoomMs: number;
	/** Load generator (this process) CPU ms per measured room joined. */
	generatorCpuPerRoomMs: number;
	/** Server and generator CPU use during the joins, % of one core. */
	serverCpuPercent: number;
	generatorCpuPercent: number;
	/** Other processes on the machine during the joins, % of one core. */
	otherCpuPercent: number;
	errors: number;
	seconds: number;
	/** WebSocket messages per room joined (requests, answers, notifications), counted by the clients. */
	messagesPerRoom: number;
	/** Writes to client sockets per room joined, counted in the server (TLS ones are SSL_writes). */
	socketWritesPerRoom: number;
}

/** How the sampler's peers reach the server and which consume flow they use. */
export interface JoinFlow {
	/** ws:// or wss:// URL of the server. */
	url: string;
	/** The short flow (capabilities once, consumeMany on join, no resume for audio) instead of the original. */
	shortFlow: boolean;
}

/**
 * Measures rooms one at a time (each joined peer by peer, then left) and
 * accumulates the figures, so that several servers can be measured in
 * alternation under the same machine conditions.
 */
export class JoinSampler {
	readonly server: ServerProcess;
	readonly #flow: JoinFlow;
	readonly #perIndex: number[][] = Array.from({ length: PEERS_PER_ROOM }, () => []);
	readonly #settled: number[] = [];
	readonly #connects: number[] = [];
	readonly #cpu = { node: 0, workers: 0 };
	#leaveCpu = 0;
	#generatorCpu = 0;
	#machineCpu = 0;
	#joinWall = 0;
	#errors = 0;
	#failedRooms = 0;
	#measured = 0;
	#seconds = 0;
	#messages = 0;
	#writes = 0;

	constructor(server: ServerProcess, flow: JoinFlow = { url: server.url, shortFlow: false }) {
		this.server = server;
		this.#flow = flow;
	}

	/** Joins one room of 7, timing each join, then everyone leaves. */
	async measureRoom(): Promise<void> {
		const server = this.server;
		const started = performance.now();
		const room = new MediaRoom();
		const writesBefore = await server.writes();
		const before: ServerSample = server.sample();
		const selfBefore = selfCpuSeconds();

		try {
			for (let p = 0; p < PEERS_PER_ROOM; p++) await room.add(this.#flow.url, { measureSettle: true, shortFlow: this.#flow.shortFlow });
		} catch (error) {
			this.#failedRooms++;
			await room.leave();
			if (this.#failedRooms > 3) throw error;

			return;
		}

		const after = server.sample();
		const used = cpuBetween(before, after);
		const writesAfter = await server.writes();

		this.#joinWall += performance.now() - started;
		this.#generatorCpu += selfCpuSeconds() - selfBefore;
		this.#cpu.node += used.node;
		this.#cpu.workers += used.workers;
		this.#machineCpu += used.machine;
		room.timings.forEach((t, index) => this.#perIndex[index]!.push(t.joinMs));
		this.#connects.push(...room.timings.map((t) => t.connectMs));
		this.#settled.push(room.settledMs[PEERS_PER_ROOM - 1]!);
		this.#errors += room.errors;
		this.#messages += room.messages;
		this.#writes += writesAfter.tls + writesAfter.tcp - writesBefore.tls - writesBefore.tcp;
		this.#measured++;

		await room.leave();
		// Let the server finish the closes before the next room is timed.
		await sleep(100);
		this.#leaveCpu += cpuBetween(after, server.sample()).total;
		this.#seconds += (performance.now() - started) / 1000;
	}

	result(): JoinMeasurement {
		const measured = this.#measured;
		const perRoom = (seconds: number) => (measured ? (seconds * 1000) / measured : Number.NaN);
		const cpu = this.#cpu;
		const wall = this.#joinWall;

		return {
			rooms: measured,
			byIndex: this.#perIndex.map((values) => summarize(values)),
			seventh: this.#perIndex[PEERS_PER_ROOM - 1]!,
			seventhSettled: summarize(this.#settled),
			connect: summarize(this.#connects),
			cpuPerRoomMs: { node: perRoom(cpu.node), workers: perRoom(cpu.workers), total: perRoom(cpu.node + cpu.workers) },
			cpuLeavePerRoomMs: perRoom(this.#leaveCpu),
			generatorCpuPerRoomMs: perRoom(this.#generatorCpu),
			serverCpuPercent: wall ? ((cpu.node + cpu.workers) * 1000 * 100) / wall : Number.NaN,
			generatorCpuPercent: wall ? (this.#generatorCpu * 1000 * 100) / wall : Number.NaN,
			otherCpuPercent: wall ? (Math.max(0, this.#machineCpu - cpu.node - cpu.workers - this.#generatorCpu) * 1000 * 100) / wall : Number.NaN,
			errors: this.#errors + this.#failedRooms,
			seconds: this.#seconds,
			messagesPerRoom: measured ? this.#messages / measured : Number.NaN,
			socketWritesPerRoom: measured ? this.#writes / measured : Number.NaN
		};
	}
}

/** Joins `rooms` measured rooms in turn (each left before the next), timing every join. */
export async function measureJoins(server: ServerProcess, rooms: number, deadline: number): Promise<JoinMeasurement> {
	const sampler = new JoinSampler(server);

	for (let i = 0; i < rooms && Date.now() < deadline; i++) await sampler.measureRoom();

	return sampler.result();
}

/** Everyone leaves the background rooms. */
export async function emptyRooms(live: MediaRoom[]): Promise<void> {
	await pool(live, 8, (room) => room.leave());
	live.length = 0;
}
