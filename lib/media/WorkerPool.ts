// The mediasoup worker processes: creates them, gives each a WebRtcServer when
// configured, picks the least-loaded one for a new room and replaces a worker
// that dies.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import * as mediasoup from 'mediasoup';
import type * as ms from 'mediasoup/types';
import type { Config } from '../config/options.js';
import { log } from '../log.js';
import { listenInfos } from './settings.js';

const debug = debugFactory('vcall:media:workers');

export interface MediaWorker {
	readonly index: number;
	readonly worker: ms.Worker;
	/** undefined in per-transport port mode. */
	readonly webRtcServer: ms.WebRtcServer | undefined;
	/** Peers currently placed on this worker (kept by the room layer). */
	load: number;
}

export interface WorkerPoolEvents {
	/** A dead worker's replacement is up (the dead one's rooms closed themselves). */
	replaced: [worker: MediaWorker];
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
	readonly #config: Config;
	readonly #workers: (MediaWorker | undefined)[] = [];
	#closed = false;

	constructor(config: Config) {
		super();
		this.#config = config;
	}

	/** Live workers. */
	get workers(): MediaWorker[] {
		return this.#workers.filter((w): w is MediaWorker => w !== undefined && !w.worker.closed);
	}

	async start(): Promise<void> {
		for (let index = 0; index < this.#config.numWorkers; index++) this.#workers[index] = await this.#spawn(index);
	}

	/** The live worker with the fewest peers (then the lowest index); undefined when none is alive. */
	leastLoaded(): MediaWorker | undefined {
		let best: MediaWorker | undefined;

		for (const candidate of this.workers) if (!best || candidate.load < best.load) best = candidate;

		return best;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const w of this.#workers) w?.worker.close();
	}

	async #spawn(index: number): Promise<MediaWorker> {
		const worker = await mediasoup.createWorker({
			logLevel: 'warn',
			rtcMinPort: this.#config.rtcMinPort,
			rtcMaxPort: this.#config.rtcMaxPort
		});
		const webRtcServer = this.#config.useWebRtcServer ? await this.#createWebRtcServer(worker, index) : undefined;
		const mediaWorker: MediaWorker = { index, worker, webRtcServer, load: 0 };

		debug('worker %d started [pid:%d]', index, worker.pid);
		worker.on('died', (error) => this.#onDied(mediaWorker, error));

		return mediaWorker;
	}

	/**
	 * Worker i listens on MEDIASOUP_MIN_PORT + i when free; a busy port moves
	 * it up the range, so several servers can share a machine (as tests do).
	 */
	async #createWebRtcServer(worker: ms.Worker, index: number): Promise<ms.WebRtcServer> {
		const { rtcMinPort, rtcMaxPort } = this.#config;
		let lastError: unknown;

		for (let port = rtcMinPort + index; port <= rtcMaxPort; port += this.#config.numWorkers) {
			try {
				return await worker.createWebRtcServer({ listenInfos: listenInfos(this.#config, port) });
			} catch (error) {
				lastError = error;
				if (!/in use|EADDRINUSE|bind/i.test(String(error))) break;
			}
		}

		worker.close();
		throw new Error(`no free RTC port for worker ${index} in ${rtcMinPort}-${rtcMaxPort}: ${String(lastError)}`);
	}

	#onDied(dead: MediaWorker, error: Error): void {
		if (this.#closed) return;
		log.error(`mediasoup worker ${dead.index} [pid:${dead.worker.pid}] died: ${error.message}; replacing it`);
		this.#workers[dead.index] = undefined;
		void this.#replace(dead.index);
	}

	async #replace(index: number): Promise<void> {
		try {
			const fresh = await this.#spawn(index);

			if (this.#closed) {
				fresh.worker.close();
				return;
			}
			this.#workers[index] = fresh;
			this.emit('replaced', fresh);
		} catch (error) {
			log.error(`could not replace mediasoup worker ${index}: ${(error as Error).message}`);
		}
	}
}
