// GET /metrics in Prometheus text format. Object counts and worker usage are
// read when scraped; request counts and latencies are recorded as answered.

import fs from 'node:fs';
import client from 'prom-client';
import type { HttpRequest, HttpResponse } from '../listener/types.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import { isRequestMethod } from '../protocol/methods.js';
import type { RequestOutcome } from '../protocol/ProtooConnection.js';
import type { Rooms } from '../rooms/Rooms.js';

/** Resident memory of a process from /proc (Linux; VmRSS is in kB whatever the page size); undefined elsewhere. */
function rssBytes(pid: number): number | undefined {
	try {
		const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

		return kb === undefined ? undefined : Number(kb) * 1024;
	} catch {
		return undefined;
	}
}

/** An object closed between the walk and its stats: it simply no longer counts. */
function ignoreClosed(): void {}

export class Metrics {
	readonly #registry = new client.Registry();
	readonly #requests: client.Counter<'method' | 'code'>;
	readonly #latency: client.Histogram<'method'>;
	readonly #relayed: client.Counter<'method' | 'code'>;
	readonly #relayLatency: client.Histogram<'method'>;
	readonly #objects: client.Gauge<'type'>;
	readonly #bytes: client.Gauge<'direction'>;
	readonly #workerCpu: client.Gauge<'worker'>;
	readonly #workerRss: client.Gauge<'worker'>;
	readonly #downlink: client.Histogram;
	readonly #scores: client.Histogram;
	readonly #layerSwitches: client.Gauge;
	readonly #rooms: Rooms;
	readonly #workers: WorkerPool;
	#scrape: Promise<void> | undefined;

	constructor(rooms: Rooms, workers: WorkerPool) {
		const registers = [this.#registry];

		client.collectDefaultMetrics({ register: this.#registry, prefix: 'vcall_node_' });
		this.#requests = new client.Counter({ name: 'vcall_requests_total', help: 'protoo requests answered, by method and result code (ok or the error code)', labelNames: ['method', 'code'], registers });
		this.#latency = new client.Histogram({
			name: 'vcall_request_duration_seconds',
			help: 'Time from a request arriving to its response, by method',
			labelNames: ['method'],
			buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
			registers
		});
		this.#relayed = new client.Counter({
			name: 'vcall_relayed_requests_total',
			help: 'Cluster mode: requests of clients connected here relayed to the node hosting their room, by method and result code',
			labelNames: ['method', 'code'],
			registers
		});
		this.#relayLatency = new client.Histogram({
			name: 'vcall_relay_duration_seconds',
			help: 'Cluster mode: time from sending a relayed request to its answer from the hosting node, by method',
			labelNames: ['method'],
			buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
			registers
		});

		// prom-client collects all metrics of a scrape concurrently: the four
		// gauges share one walk of the rooms per scrape.
		const collect = () => this.#refresh();

		this.#objects = new client.Gauge({ name: 'vcall_objects', help: 'Live rooms, sessions, peers and mediasoup objects', labelNames: ['type'], registers, collect });
		this.#bytes = new client.Gauge({ name: 'vcall_transport_bytes', help: 'Bytes received (in) and sent (out) by the live WebRTC transports', labelNames: ['direction'], registers, collect });
		this.#workerCpu = new client.Gauge({ name: 'vcall_worker_cpu_seconds', help: 'CPU time used by each mediasoup worker process', labelNames: ['worker'], registers, collect });
		this.#workerRss = new client.Gauge({ name: 'vcall_worker_resident_memory_bytes', help: 'Resident memory of each mediasoup worker process', labelNames: ['worker'], registers, collect });
		// Distributions across peers and consumers as of the scrape (rebuilt each
		// time): a label per peer would grow without bound.
		this.#downlink = new client.Histogram({
			name: 'vcall_peer_downlink_bitrate_bits',
			help: 'Bits/s the server sends each receiving peer (mediasoup sendBitrate of its recv transport), across peers',
			buckets: [100e3, 250e3, 500e3, 750e3, 1e6, 1.5e6, 2e6, 3e6, 5e6],
			registers,
			collect
		});
		this.#scores = new client.Histogram({ name: 'vcall_consumer_score', help: 'Send score (0-10) of each video consumer, across consumers', buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], registers, collect });
		this.#layerSwitches = new client.Gauge({ name: 'vcall_consumer_layer_switches_per_minute', help: 'Layer changes of all consumers in the last minute', registers, collect });
		this.#rooms = rooms;
		this.#workers = workers;
	}

	#refresh(): Promise<void> {
		this.#scrape ??= this.#collect().finally(() => (this.#scrape = undefined));

		return this.#scrape;
	}

	async #collect(): Promise<void> {
		const rooms = this.#rooms;
		const counts = { rooms: rooms.roomCount, sessions: rooms.sessionCount, peers: 0, transports: 0, producers: 0, consumers: 0 };
		const pending: Promise<void>[] = [];
		let bytesIn = 0;
		let bytesOut = 0;

		let switches = 0;

		this.#downlink.reset();
		this.#scores.reset();
		for (const room of rooms.rooms) {
			for (const downlink of room.downlinks()) {
				for (const score of downlink.scores) this.#scores.observe(score);
				switches += downlink.switchesLastMinute;
			}
			counts.peers += room.peerCount;
			for (const peer of room.peers) {
				counts.producers += peer.producers.size;
				counts.consumers += peer.consumers.size;
				for (const transport of peer.transports.values()) {
					counts.transports++;
					pending.push(
						transport.getStats().then(([stats]) => {
							bytesIn += stats?.bytesReceived ?? 0;
							bytesOut += stats?.bytesSent ?? 0;
							// What the server sends the peer: its recv transport's send rate, as mediasoup measures it.
							if (transport.appData.direction === 'recv') this.#downlink.observe(stats?.sendBitrate ?? 0);
						}, ignoreClosed)
					);
				}
			}
		}
		for (const { index, worker } of this.#workers.workers) {
			const label = { worker: String(index) };

			pending.push(worker.getResourceUsage().then((usage) => void this.#workerCpu.set(label, (usage.ru_utime + usage.ru_stime) / 1000), ignoreClosed));
			this.#workerRss.set(label, rssBytes(worker.pid) ?? 0);
		}
		await Promise.all(pending);
		for (const [type, value] of Object.entries(counts)) this.#objects.set({ type }, value);
		this.#layerSwitches.set(switches);
		this.#bytes.set({ direction: 'in' }, bytesIn);
		this.#bytes.set({ direction: 'out' }, bytesOut);
	}

	/** Records an answered request. Unknown methods share one label: clients choose method names. */
	observe = (outcome: RequestOutcome): void => {
		const method = isRequestMethod(outcome.method) ? outcome.method : 'unknown';

		this.#requests.inc({ method, code: outcome.errorCode === undefined ? 'ok' : String(outcome.errorCode) });
		this.#latency.observe({ method }, outcome.seconds);
	};

	/** Records a request relayed to another node (its method was validated before it left). */
	relayed = (method: string, errorCode: number | undefined, seconds: number): void => {
		this.#relayed.inc({ method, code: errorCode === undefined ? 'ok' : String(errorCode) });
		this.#relayLatency.observe({ method }, seconds);
	};

	route = async (req: HttpRequest): Promise<HttpResponse | undefined> => {
		if (req.path !== '/metrics' || req.method !== 'GET') return undefined;

		return { status: 200, headers: { 'content-type': this.#registry.contentType }, body: await this.#registry.metrics() };
	};
}
