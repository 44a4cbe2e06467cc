// One fuzzing campaign against a real server over real sockets: two rooms
// with valid flows (the fuzzed room, where the fuzzers may join, and a
// bystander room they have no token for), fuzz sockets sending generated
// frames (frames.ts) in fast-check runs, and the valid flows going on
// meanwhile. What must hold, checked as it goes and at the end:
// - every request gets a response, with a documented error code other than 500;
//   every frame that is no request gets an 'error' notification; no fuzz
//   socket is closed by the server;
// - the valid flows' requests all succeed, and the bystanders hear nothing;
// - once the fuzz sockets are gone, exactly the valid flows' rooms, peers,
//   sessions and mediasoup objects are left (Rooms counts, worker.dump()
//   routers, WebRtcServer.dump() transports).

import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import WebSocket from 'ws';
import { ALL_GRANTS } from '../../lib/auth/grants.js';
import { mintJoinToken } from '../../lib/auth/JoinTokens.js';
import { ErrorCode } from '../../lib/protocol/errors.js';
import type { Server } from '../../server/Server.js';
import { TestPeer } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { frameArbitrary, frameText, type Frame } from './frames.js';

const SECRET = 'the-fuzz-campaign-secret-of-32-bytes!';
const DOCUMENTED = new Set<number>(Object.values(ErrorCode));
/** As many as the server lets one connection have unanswered (MAX_REQUESTS_IN_FLIGHT's default). */
const IN_FLIGHT = 8;
const POOL_MAX = 400;

export interface FuzzOptions {
	frames: number;
	seed: number;
	/** fast-check's replay path (from a failure report). */
	path?: string;
	sockets?: number;
	/** Frames per fast-check run. */
	batch?: number;
	log?: (line: string) => void;
}

export interface FuzzReport {
	seed: number;
	frames: number;
	seconds: number;
	/** Responses by code ('ok' or the error code), and 'error' notifications. */
	outcomes: Record<string, number>;
	validRequests: number;
	bystanderHeartbeatMaxMs: number;
}

class FuzzViolation extends Error {
	override name = 'FuzzViolation';
}

/** One raw WebSocket that sends frames and keeps the server to what it owes them. */
class FuzzSocket {
	readonly #ws: WebSocket;
	readonly #pending = new Map<number, { frame: Frame; text: string; resolve: () => void }>();
	readonly #slots: (() => void)[] = [];
	readonly #outcomes: Record<string, number>;
	readonly #pool: string[];
	#nextId = 1;
	#errorsOwed = 0;
	#errorsSeen = 0;
	#closedBy: string | undefined;
	#closing = false;

	static async open(url: string, outcomes: Record<string, number>, pool: string[]): Promise<FuzzSocket> {
		const ws = new WebSocket(url, 'protoo');

		await new Promise<void>((resolve, reject) => {
			ws.once('open', resolve);
			ws.once('error', reject);
		});

		return new FuzzSocket(ws, outcomes, pool);
	}

	private constructor(ws: WebSocket, outcomes: Record<string, number>, pool: string[]) {
		this.#ws = ws;
		this.#outcomes = outcomes;
		this.#pool = pool;
		ws.on('message', (data) => this.#onMessage(String(data)));
		ws.once('close', (code, reason) => {
			if (!this.#closing) this.#closedBy = `server closed a fuzz socket (${code} ${String(reason)}) with ${this.#pending.size} requests unanswered`;
			for (const waiter of this.#pending.values()) waiter.resolve();
			for (const slot of this.#slots.splice(0)) slot();
		});
	}

	/** Sends one frame once a request slot is free; resolves when it is on its way, with its answer to come. */
	async send(frame: Frame): Promise<{ answered: Promise<void> }> {
		this.#assertOpen();
		if (frame.expects === 'error') {
			this.#errorsOwed++;
			this.#ws.send(frameText(frame, 0, this.#pool));

			return { answered: Promise.resolve() };
		}
		while (this.#pending.size >= IN_FLIGHT) await new Promise<void>((resolve) => this.#slots.push(resolve));
		this.#assertOpen();

		const id = this.#nextId++;
		const text = frameText(frame, id, this.#pool);
		const answered = new Promise<void>((resolve) => this.#pending.set(id, { frame, text, resolve }));

		this.#ws.send(text);

		return { answered };
	}

	/** A heartbeat's answer comes after everything sent before it: then every owed 'error' notification must be in. */
	async settle(): Promise<void> {
		await (await this.send({ value: { request: true, id: 0, method: 'heartbeat', data: {} }, expects: 'response', kind: 'heartbeat' })).answered;
		this.#assertOpen();
		if (this.#errorsSeen !== this.#errorsOwed) throw new FuzzViolation(`${this.#errorsOwed} frames that were no request, ${this.#errorsSeen} 'error' notifications`);
	}

	close(): void {
		this.#closing = true;
		this.#ws.close();
	}

	#assertOpen(): void {
		if (this.#closedBy) throw new FuzzViolation(this.#closedBy);
	}

	#onMessage(text: string): void {
		const message = JSON.parse(text) as { response?: true; notification?: true; id?: number; ok?: true; errorCode?: number; method?: string; data?: unknown };

		if (message.notification) {
			if (message.method === 'error') {
				this.#errorsSeen++;
				this.#outcomes.notification = (this.#outcomes.notification ?? 0) + 1;
			}

			return;
		}

		const waiter = this.#pending.get(message.id ?? -1);

		if (!message.response || !waiter) throw new FuzzViolation(`unexpected frame from the server: ${text.slice(0, 200)}`);
		this.#pending.delete(message.id!);

		const code = message.ok ? 'ok' : String(message.errorCode);

		this.#outcomes[code] = (this.#outcomes[code] ?? 0) + 1;
		if (!message.ok && (!DOCUMENTED.has(message.errorCode!) || message.errorCode === ErrorCode.INTERNAL))
			this.#closedBy = `${waiter.frame.kind}: error code ${message.errorCode} for ${waiter.text.slice(0, 300)}`;
		if (message.ok) learnIds(message.data, this.#pool);
		waiter.resolve();
		this.#slots.shift()?.();
	}
}

/** Ids the server handed out (the fuzzers' own transports, producers...) join the pool. */
function learnIds(value: unknown, pool: string[], depth = 0): void {
	if (depth > 3 || typeof value !== 'object' || value === null) return;
	for (const [key, v] of Object.entries(value)) {
		if (typeof v === 'string' && /(^id|Id)$/.test(key) && pool.length < POOL_MAX && !pool.includes(v)) pool.push(v);
		else learnIds(v, pool, depth + 1);
	}
}

interface Snapshot {
	rooms: number;
	peers: number;
	sessions: number;
	media: ReturnType<Server['rooms']['mediaCounts']>;
	routers: number;
	webRtcServerTransports: number;
}

async function snapshot(server: Server): Promise<Snapshot> {
	let routers = 0;
	let webRtcServerTransports = 0;

	for (const { worker, webRtcServer } of server.workers.workers) {
		routers += (await worker.dump()).routerIds.length;
		webRtcServerTransports += webRtcServer ? (await webRtcServer.dump()).webRtcTransportIds.length : 0;
	}

	return { rooms: server.rooms.roomCount, peers: server.rooms.peerCount, sessions: server.rooms.sessionCount, media: server.rooms.mediaCounts(), routers, webRtcServerTransports };
}

const token = (identity: string, room: string, grants: Partial<typeof ALL_GRANTS> = ALL_GRANTS, secret = SECRET) => mintJoinToken(secret, { identity, room, ttlSeconds: 3600, grants });

/** Two peers with a transport pair each, one producer and its consumer, in `room`. */
async function validRoom(url: string, room: string, names: [string, string]): Promise<[TestPeer, TestPeer]> {
	const peers = await Promise.all(names.map(async (name) => TestPeer.connect(`${url}?token=${await token(name, room)}`)));
	const [a, b] = peers as [TestPeer, TestPeer];

	await a.join(room);
	await b.join(room);
	await a.setupMedia();
	await b.setupMedia();
	await b.consume((await a.produce('video', { source: 'camera' })).id);

	return [a, b];
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
	const log = options.log ?? (() => undefined);
	const batch = options.batch ?? 100;
	const { server, url } = await startServer({
		authMode: 'jwt',
		authSecret: SECRET,
		// The limits would answer most frames 429 and close the sockets: the fuzzers test what lies behind them.
		requestRate: 1_000_000,
		requestBurst: 1_000_000,
		roomCreatesPerMinute: 1_000_000,
		maxConnectionsPerIp: 1000,
		joinTimeout: 3600,
		peerTimeout: 3600,
		reconnectGrace: 0,
		roomIdleTimeout: 0.1
	});
	const sockets: FuzzSocket[] = [];
	const everyone: TestPeer[] = [];

	try {
		const [alice, bob] = await validRoom(url, 'fuzzed', ['alice', 'bob']);
		const [carol, dave] = await validRoom(url, 'bystander', ['carol', 'dave']);

		everyone.push(alice, bob, carol, dave);

		const baseline = await snapshot(server);
		const bystanderHeard = carol.notifications.length + dave.notifications.length;
		const ids = (p: TestPeer) => [p.peerId, p.sendTransport!.id, p.recvTransport!.id, ...p.producers.keys(), ...p.consumers.keys()];
		const fuzzedRoomToken = await token('mallory', 'fuzzed');
		const pool = [
			'fuzzed', 'bystander', 'newroom', ...everyone.flatMap(ids),
			fuzzedRoomToken, await token('mallory', 'newroom'), await token('mallory', 'fuzzed', {}),
			await token('mallory', 'bystander', ALL_GRANTS, 'a-forged-secret-that-is-32-bytes-long'), await token('mallory', 'bystander', ALL_GRANTS, SECRET.toUpperCase())
		];
		const outcomes: Record<string, number> = {};

		for (let i = 0; i < (options.sockets ?? 6); i++) sockets.push(await FuzzSocket.open(url, outcomes, pool));
		// Half of them start inside the fuzzed room, so room requests get past the session checks.
		for (const socket of sockets.slice(0, sockets.length / 2))
			await (await socket.send({ value: { request: true, id: 0, method: 'joinRoom', data: { roomId: 'fuzzed', token: fuzzedRoomToken } }, expects: 'response', kind: 'join' })).answered;

		// The valid flows go on during the whole campaign.
		let running = true;
		let validRequests = 0;
		let bystanderHeartbeatMaxMs = 0;
		const [producerId] = alice.producers.keys();
		const flows = (async () => {
			for (let round = 0; running; round++) {
				const started = performance.now();

				await carol.request('heartbeat');
				bystanderHeartbeatMaxMs = Math.max(bystanderHeartbeatMaxMs, performance.now() - started);
				if ((await dave.roomRequest('getRoomInfo')).peerCount !== 2) throw new FuzzViolation('the bystander room changed');
				await alice.roomRequest(round % 2 ? 'resumeProducer' : 'pauseProducer', { producerId: producerId! });
				await bob.roomRequest('getProducers');
				validRequests += 4;
				await new Promise((resolve) => setTimeout(resolve, 10)); // pacing: the flows are a call, not a flood
			}
		})();

		const started = performance.now();
		let sent = 0;

		try {
			await fc.assert(
				fc.asyncProperty(fc.array(frameArbitrary, { minLength: batch, maxLength: batch }), async (frames) => {
					const answered: Promise<void>[] = [];

					await Promise.all(
						sockets.map(async (socket, s) => {
							for (let i = s; i < frames.length; i += sockets.length) answered.push((await socket.send(frames[i]!)).answered);
						})
					);
					await Promise.all(answered);
					for (const socket of sockets) await socket.settle();
					sent += frames.length;
					if (sent % (batch * 50) === 0) log(`${sent} frames, ${Math.round(sent / ((performance.now() - started) / 1000))}/s`);
				}),
				{ seed: options.seed, numRuns: Math.ceil(options.frames / batch), endOnFailure: true, ...(options.path ? { path: options.path } : {}) }
			);
		} finally {
			running = false;
			await flows;
		}

		const seconds = (performance.now() - started) / 1000;

		for (const socket of sockets.splice(0)) socket.close();
		await waitFor(async () => JSON.stringify(await snapshot(server)) === JSON.stringify(baseline), {
			what: `only the valid flows' objects left (baseline ${JSON.stringify(baseline)})`,
			timeout: 15_000,
			interval: 50
		}).catch(async (error: Error) => {
			throw new FuzzViolation(`${error.message}; now ${JSON.stringify(await snapshot(server))}`);
		});
		if (carol.notifications.length + dave.notifications.length !== bystanderHeard) throw new FuzzViolation('the bystanders were notified of something');

		return { seed: options.seed, frames: sent, seconds, outcomes, validRequests, bystanderHeartbeatMaxMs };
	} finally {
		for (const socket of sockets) socket.close();
		for (const peer of everyone) peer.close();
		await server.close();
	}
}
