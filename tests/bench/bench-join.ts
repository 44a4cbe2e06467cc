// Benchmark 1 (and its protoo-server comparison): the time a peer takes to
// join a 7-peer room with full media (create/join, capabilities, two
// transports, audio + video producers, consumers of all others) while 50
// other 7-peer rooms are live, and the server CPU, WebSocket messages and
// socket writes per room joined. Every stack serves ws and wss (a dev
// certificate) and every room is joined with the short consume flow or the
// original one; all variants alternate in one run, so their ratios compare
// like with like on a loaded machine. --profile adds a grouped CPU profile.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupProfiles } from './lib/cpu-profile.js';
import { emptyRooms, fillRooms, JoinSampler, PEERS_PER_ROOM, readMemory, type JoinMeasurement, type MemoryReading } from './lib/join-load.js';
import type { MediaRoom } from './lib/media-peer.js';
import { finishSection, fmtRatio, ratio, type BenchContext, type Goal, type Section } from './lib/section.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { startBenchServer, type StackSpec } from './lib/bench-server.js';
import { summarize } from './lib/stats.js';
import type { Table } from './lib/table.js';

export const JOIN_GOAL_MS = 150;

/** Issue 14's goals: server CPU per 7-peer room joined (vcall, node listener, short flow) and the 7th join's p99. */
const CPU_GOAL_MS = { wss: 75, ws: 65 } as const;
const SEVENTH_P99_GOAL_MS = 100;

const MAKE_DEV_CERT = fileURLToPath(new URL('../../../certs/make-dev-cert.sh', import.meta.url));

export type Scheme = 'ws' | 'wss';
export type ConsumeFlow = 'short' | 'original';

interface Variant {
	label: string;
	stack: string;
	scheme: Scheme;
	flow: ConsumeFlow;
	sampler: JoinSampler;
	server: ServerProcess;
}

interface VariantResult {
	label: string;
	stack: string;
	scheme: Scheme;
	flow: ConsumeFlow;
	listener: string;
	join: JoinMeasurement;
}

/** A self-signed certificate for 127.0.0.1 from certs/make-dev-cert.sh, in a temp dir. */
function devCertificate(): { sslCertPath: string; sslKeyPath: string; dir: string } {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'vcall-bench-cert-'));

	execFileSync(MAKE_DEV_CERT, [], { env: { ...process.env, CERT_DIR: dir }, stdio: 'ignore' });

	return { sslCertPath: path.join(dir, 'cert.pem'), sslKeyPath: path.join(dir, 'key.pem'), dir };
}

const slug = (label: string) => label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');

export async function runJoin(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const background = ctx.param('joinBackground', 50);
	const samples = ctx.param('joinSamples', ctx.quick ? 30 : 100);
	const cert = devCertificate();
	// The load generator accepts the self-signed certificate of its own loopback server (protoo-client offers no TLS options).
	if (ctx.schemes.includes('wss')) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

	// Every stack is up at once with its background rooms, and the measured
	// rooms alternate between all variants (stack x scheme x flow): on a
	// shared 2-core machine they then meet the same conditions.
	const servers: { spec: StackSpec; server: ServerProcess; live: MediaRoom[]; fillSeconds: number; memory?: MemoryReading; profileDir?: string }[] = [];
	const variants: Variant[] = [];
	const results: VariantResult[] = [];

	try {
		for (const spec of ctx.stacks) {
			ctx.log(`join: ${spec.label}: starting server (ws + wss), filling ${background} rooms x ${PEERS_PER_ROOM} peers`);

			const profileDir = ctx.profileDir && path.join(ctx.profileDir, slug(spec.label));

			if (profileDir) {
				rmSync(profileDir, { recursive: true, force: true });
				mkdirSync(profileDir, { recursive: true });
			}

			const server = await startBenchServer(
				spec,
				{ sslCertPath: cert.sslCertPath, sslKeyPath: cert.sslKeyPath, httpsPort: 0, allowInsecureWs: true },
				profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
			);
			const entry = { spec, server, live: [] as MediaRoom[], fillSeconds: 0, profileDir };

			servers.push(entry);
			entry.fillSeconds = await fillRooms(server, entry.live, background);
			ctx.log(`join: ${spec.label}: ${background} rooms live after ${entry.fillSeconds.toFixed(1)} s`);

			for (const scheme of ctx.schemes) {
				const url = scheme === 'wss' ? server.secureUrl : server.url;

				if (!url) throw new Error(`${spec.label} serves no ${scheme}`);
				for (const flow of ctx.joinFlows) {
					variants.push({
						label: `${spec.label} ${scheme} ${flow}`,
						stack: spec.label,
						scheme,
						flow,
						server,
						sampler: new JoinSampler(server, { url, shortFlow: flow === 'short' })
					});
				}
			}
		}
		for (const entry of servers) entry.memory = await readMemory(entry.server);

		ctx.log(`join: measuring ${samples} rooms per variant, alternating ${variants.map((v) => v.label).join(' / ')}`);

		const deadline = Date.now() + (ctx.quick ? 240_000 : 900_000) * Math.max(1, variants.length / 2);

		for (let i = 0; i < samples && Date.now() < deadline; i++) {
			for (const variant of i % 2 ? [...variants].reverse() : variants) await variant.sampler.measureRoom();
		}
		for (const v of variants) {
			const join = v.sampler.result();

			results.push({ label: v.label, stack: v.stack, scheme: v.scheme, flow: v.flow, listener: v.server.listenerReason, join });
			ctx.log(`join: ${v.label}: CPU/room ${join.cpuPerRoomMs.total.toFixed(1)} ms, 7th peer p50 ${summarize(join.seventh).p50.toFixed(1)} ms`);
		}
	} finally {
		for (const entry of servers) {
			await emptyRooms(entry.live).catch(() => undefined);
			await entry.server.stop();
		}
		rmSync(cert.dir, { recursive: true, force: true });
	}

	const tables: Table[] = [];
	const seventh = (r: VariantResult) => summarize(r.join.seventh);
	const find = (stack: string, scheme: Scheme, flow: ConsumeFlow) => results.find((r) => r.stack === stack && r.scheme === scheme && r.flow === flow);

	tables.push({
		title: `Join: WebSocket open -> all consumers ready, 7th peer of a 7-peer room, ${background} other 7-peer rooms live (ms)`,
		headers: ['variant', 'rooms', 'p50', 'p95', 'p99', 'max', 'all settled p99', 'server CPU/room ms', '(node / workers)', 'messages/room', 'socket writes/room', 'generator CPU/room ms', 'errors'],
		rows: results.map((r) => [
			r.label,
			r.join.rooms,
			seventh(r).p50,
			seventh(r).p95,
			seventh(r).p99,
			seventh(r).max,
			r.join.seventhSettled.p99,
			r.join.cpuPerRoomMs.total,
			`${r.join.cpuPerRoomMs.node.toFixed(1)} / ${r.join.cpuPerRoomMs.workers.toFixed(1)}`,
			r.join.messagesPerRoom.toFixed(0),
			r.join.socketWritesPerRoom.toFixed(0),
			r.join.generatorCpuPerRoomMs,
			r.join.errors
		]),
		notes: [
			'  flow "original": rtpCapabilities in every consume, one consume per producer, resumeConsumer for every consumer.',
			'  flow "short": rtpCapabilities on the first consume only, one consumeMany for the producers already there, resumeConsumer for video only (audio starts unpaused).',
			'  "all settled": until the 6 others have also consumed (and, where needed, resumed) the 7th peer\'s 2 producers.',
			'  Server CPU = utime+stime of the server\'s Node process + its mediasoup-worker processes (/proc) during the 7 joins of a room.',
			'  Messages are counted by the clients (each request, its answer, each notification); socket writes in the server (net.Socket writes to clients; on wss each is one SSL_write).',
			`  Server / generator CPU during the joins: ${results.map((r) => `${r.label} ${r.join.serverCpuPercent.toFixed(0)} % / ${r.join.generatorCpuPercent.toFixed(0)} % of a core (other processes ${r.join.otherCpuPercent.toFixed(0)} %)`).join('; ')}.`
		]
	});

	// Paired ratios: each pair ran interleaved room by room.
	const pairs: { name: string; a: VariantResult; b: VariantResult }[] = [];

	for (const stack of ctx.stacks.map((s) => s.label)) {
		for (const scheme of ctx.schemes) {
			const short = find(stack, scheme, 'short');
			const original = find(stack, scheme, 'original');

			if (short && original) pairs.push({ name: `${stack} ${scheme}: short / original flow`, a: short, b: original });
		}
		for (const flow of ctx.joinFlows) {
			const wss = find(stack, 'wss', flow);
			const ws = find(stack, 'ws', flow);

			if (wss && ws) pairs.push({ name: `${stack} ${flow}: wss / ws`, a: wss, b: ws });
		}
	}
	for (const ours of ctx.stacks.filter((s) => s.stack === 'vcall').map((s) => s.label)) {
		for (const scheme of ctx.schemes) {
			for (const flow of ctx.joinFlows) {
				const a = find(ours, scheme, flow);
				const b = find('protoo-server', scheme, flow);

				if (a && b) pairs.push({ name: `${ours} / protoo-server, ${scheme} ${flow}`, a, b });
			}
		}
	}
	if (pairs.length) {
		tables.push({
			title: 'Join: paired ratios (lower is better)',
			headers: ['pair', 'server CPU/room', 'node CPU', 'workers CPU', 'messages', 'socket writes', '7th p50'],
			rows: pairs.map(({ name, a, b }) => [
				name,
				fmtRatio(ratio(a.join.cpuPerRoomMs.total, b.join.cpuPerRoomMs.total)),
				fmtRatio(ratio(a.join.cpuPerRoomMs.node, b.join.cpuPerRoomMs.node)),
				fmtRatio(ratio(a.join.cpuPerRoomMs.workers, b.join.cpuPerRoomMs.workers)),
				fmtRatio(ratio(a.join.messagesPerRoom, b.join.messagesPerRoom)),
				fmtRatio(ratio(a.join.socketWritesPerRoom, b.join.socketWritesPerRoom)),
				fmtRatio(ratio(seventh(a).p50, seventh(b).p50))
			])
		});
	}

	const profiles = servers.filter((s) => s.profileDir).map((s) => ({ label: s.spec.label, ...groupProfiles(s.profileDir!) }));

	for (const profile of profiles) {
		tables.push({
			title: `CPU profile of the ${profile.label} server (node --cpu-prof, self time by where it was spent, fill and all variants)`,
			headers: ['where', 'ms', 'share of busy time'],
			rows: profile.shares.map((s) => [s.category, s.ms.toFixed(0), `${s.percent.toFixed(1)} %`]),
			notes: [`  ${profile.files} profile(s), ${profile.busyMs.toFixed(0)} ms busy in the Node process; native calls (structuredClone, JSON, socket writes) count for their JavaScript caller.`]
		});
	}

	const goals: Goal[] = [];
	const busy = (r: VariantResult) =>
		r.join.otherCpuPercent > 30 ? { note: `under load: other processes used ${r.join.otherCpuPercent.toFixed(0)} % of a core during the joins` } : {};

	for (const r of results.filter((x) => x.stack !== 'protoo-server' && x.flow === 'short')) {
		goals.push({
			goal: `server CPU per 7-peer room joined over ${r.scheme} (${r.stack}, short flow)`,
			target: `<= ${CPU_GOAL_MS[r.scheme]} ms`,
			measured: `${r.join.cpuPerRoomMs.total.toFixed(1)} ms (node ${r.join.cpuPerRoomMs.node.toFixed(1)}, workers ${r.join.cpuPerRoomMs.workers.toFixed(1)}; n=${r.join.rooms})`,
			met: r.join.cpuPerRoomMs.total <= CPU_GOAL_MS[r.scheme],
			...busy(r)
		});
		goals.push({
			goal: `join p99 of the 7th peer with ${background} other rooms live (${r.label})`,
			target: `< ${SEVENTH_P99_GOAL_MS} ms`,
			measured: `${seventh(r).p99.toFixed(1)} ms (n=${r.join.rooms}; p50 ${seventh(r).p50.toFixed(1)} ms)`,
			met: seventh(r).p99 < SEVENTH_P99_GOAL_MS,
			...busy(r)
		});
	}
	goals.push({
		goal: 'lost answers (a request that never got its answer, any variant)',
		target: '0',
		measured: String(results.reduce((sum, r) => sum + r.join.errors, 0)),
		met: results.every((r) => r.join.errors === 0)
	});

	return finishSection(started, {
		name: 'join',
		title: 'Join cost and latency (7-peer rooms, FakeHandler, ws and wss, short and original consume flows)',
		tables,
		goals,
		data: {
			results: results.map((r) => ({ ...r, join: { ...r.join, seventhSummary: seventh(r) } })),
			servers: servers.map((s) => ({ label: s.spec.label, listener: s.server.listenerReason, backgroundRooms: background, fillSeconds: s.fillSeconds, memory: s.memory })),
			profiles
		}
	});
}
