// Signaling load: many lightweight protoo clients (lib/rawws.ts) that joined
// rooms through protoo requests, then cheap requests (heartbeat and
// getRoomInfo, alternately) either closed loop (N outstanding per socket, as
// fast as the server answers) or open loop (paced at a fixed total rate,
// latency measured from the scheduled send time, so a slow server cannot
// hide its queueing).

import { cpuBetween, selfCpuSeconds } from '../../helpers/proc.js';
import { RawProtooClient } from './rawws.js';
import type { ServerProcess } from '../../helpers/server-process.js';
import { Histogram, pool, sleep, type Summary } from './stats.js';

const RING = 4096;

interface LoadClient {
	client: RawProtooClient;
	roomJson: string;
	/** Scheduled send time by id (ring). */
	sentAt: Float64Array;
	outstanding: number;
	/** Alternates heartbeat / getRoomInfo. */
	flip: boolean;
}

export interface LoadResult {
	mode: 'closed' | 'open';
	/** closed: outstanding requests per socket; open: target rate. */
	parameter: number;
	seconds: number;
	completed: number;
	errors: number;
	rate: number;
	latency: Summary;
	serverCpuPercent: { node: number; workers: number };
	generatorCpuPercent: number;
	/** Everything else on the machine (other processes), % of one core. */
	otherCpuPercent: number;
	/** Server CPU µs per answered request (Node + workers). */
	serverCpuUsPerRequest: number;
	/** open loop: worst lateness of the generator behind its schedule, ms. */
	generatorLagMaxMs?: number;
	/** open loop: requests still unanswered when the window closed. */
	unanswered?: number;
}

export class SignalLoad {
	readonly #clients: LoadClient[] = [];
	readonly #server: ServerProcess;
	#measuring = false;
	#running = false;
	#histogram = new Histogram();
	#completed = 0;
	#errors = 0;

	private constructor(server: ServerProcess) {
		this.#server = server;
	}

	/**
	 * Connects rooms x peersPerRoom clients; the first of each room creates it, the others join.
	 * `url`: where the clients connect when not to `server` (a cluster node relaying to it).
	 */
	static async connect(server: ServerProcess, rooms: number, peersPerRoom: number, concurrency = 25, url = server.url): Promise<SignalLoad> {
		const load = new SignalLoad(server);

		await pool(Array.from({ length: rooms }, (_, i) => i), concurrency, async () => {
			let roomId = '';

			for (let p = 0; p < peersPerRoom; p++) {
				const client = await RawProtooClient.connect(url);

				if (p === 0) roomId = (await client.request('createRoom', { metadata: { bench: true } })).roomId;
				else await client.request('joinRoom', { roomId, metadata: { bench: true } });
				load.#add(client, roomId);
			}
		});

		return load;
	}

	#add(client: RawProtooClient, roomId: string): void {
		const entry: LoadClient = { client, roomJson: JSON.stringify({ roomId }), sentAt: new Float64Array(RING), outstanding: 0, flip: false };

		client.onResponse = (id, ok) => this.#onResponse(entry, id, ok);
		this.#clients.push(entry);
	}

	get size(): number {
		return this.#clients.length;
	}

	#fire(entry: LoadClient, scheduledAt: number): void {
		entry.flip = !entry.flip;

		const id = entry.flip ? entry.client.fire('heartbeat', '{}') : entry.client.fire('getRoomInfo', entry.roomJson);

		entry.sentAt[id % RING] = scheduledAt;
		entry.outstanding++;
	}

	#closedLoop = false;

	#onResponse(entry: LoadClient, id: number, ok: boolean): void {
		entry.outstanding--;
		if (this.#measuring) {
			this.#completed++;
			if (!ok) this.#errors++;
			this.#histogram.record(performance.now() - entry.sentAt[id % RING]!);
		}
		if (this.#closedLoop && this.#running) this.#fire(entry, performance.now());
	}

	async #drain(timeoutMs = 10_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;

		while (this.#clients.some((c) => c.outstanding > 0) && Date.now() < deadline) await sleep(20);
	}

	#startWindow(): { begin: () => void; end: (mode: 'closed' | 'open', parameter: number) => LoadResult } {
		let serverBefore = this.#server.sample();
		let selfBefore = selfCpuSeconds();
		let wallBefore = performance.now();

		return {
			begin: () => {
				this.#histogram = new Histogram();
				this.#completed = 0;
				this.#errors = 0;
				this.#measuring = true;
				serverBefore = this.#server.sample();
				selfBefore = selfCpuSeconds();
				wallBefore = performance.now();
			},
			end: (mode, parameter) => {
				this.#measuring = false;

				const seconds = (performance.now() - wallBefore) / 1000;
				const used = cpuBetween(serverBefore, this.#server.sample());
				const generator = selfCpuSeconds() - selfBefore;

				return {
					mode,
					parameter,
					seconds,
					completed: this.#completed,
					errors: this.#errors,
					rate: this.#completed / seconds,
					latency: this.#histogram.summary(),
					serverCpuPercent: { node: (used.node / seconds) * 100, workers: (used.workers / seconds) * 100 },
					generatorCpuPercent: (generator / seconds) * 100,
					otherCpuPercent: (Math.max(0, used.machine - used.total - generator) / seconds) * 100,
					serverCpuUsPerRequest: this.#completed ? (used.total * 1e6) / this.#completed : Number.NaN
				};
			}
		};
	}

	/** N outstanding requests per socket, each answer immediately followed by the next request. */
	async closedLoop(outstanding: number, warmupMs: number, measureMs: number): Promise<LoadResult> {
		const window = this.#startWindow();

		this.#closedLoop = true;
		this.#running = true;
		for (const entry of this.#clients) entry.client.batch(() => {
			for (let i = 0; i < outstanding; i++) this.#fire(entry, performance.now());
		});
		await sleep(warmupMs);
		window.begin();
		await sleep(measureMs);

		const result = window.end('closed', outstanding);

		this.#running = false;
		this.#closedLoop = false;
		await this.#drain();

		return result;
	}

	/** A fixed total request rate spread round-robin over the sockets. */
	async openLoop(rate: number, warmupMs: number, measureMs: number): Promise<LoadResult> {
		const window = this.#startWindow();
		const clients = this.#clients;
		const interval = 1000 / rate;
		const start = performance.now();
		const measureFrom = start + warmupMs;
		const end = measureFrom + measureMs;
		let sent = 0;
		let next = 0;
		let lagMax = 0;
		let begun = false;
		let unanswered = 0;

		this.#running = true;
		await new Promise<void>((resolve) => {
			const tick = () => {
				const now = performance.now();

				if (!begun && now >= measureFrom) {
					begun = true;
					window.begin();
				}
				if (now >= end) {
					resolve();

					return;
				}

				const due = Math.floor((now - start) / interval);

				while (sent < due) {
					const scheduled = start + sent * interval;

					if (begun) lagMax = Math.max(lagMax, now - scheduled);
					this.#fire(clients[next]!, scheduled);
					next = (next + 1) % clients.length;
					sent++;
				}
				setTimeout(tick, 1);
			};

			tick();
		});
		unanswered = clients.reduce((sum, c) => sum + c.outstanding, 0);

		const result = window.end('open', rate);

		this.#running = false;
		await this.#drain();

		return { ...result, generatorLagMaxMs: lagMax, unanswered };
	}

	close(): void {
		for (const entry of this.#clients) entry.client.close();
		this.#clients.length = 0;
	}
}
