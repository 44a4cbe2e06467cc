// Starts the bench server (server-entry.js) in a child process and talks to it
// over IPC; samples its CPU/RSS (Node process + mediasoup-worker children)
// from /proc.

import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../../lib/config/options.js';
import type { BenchServerOptions, Inspection, ReadyMessage, StackKind } from '../server-entry.js';
import { sampleServer, type ServerSample } from './proc.js';

const ENTRY = fileURLToPath(new URL('../server-entry.js', import.meta.url));

/** A stack under test: which server and which listener. */
export interface StackSpec {
	/** e.g. 'vcall (node)', 'protoo-server' */
	label: string;
	stack: StackKind;
	listener: 'node' | 'uws';
}

/** Base config of every bench server: loopback, long peer timeout (load clients send no heartbeats). */
export function benchConfig(overrides: ConfigInput = {}): ConfigInput {
	return {
		nodeEnv: 'test',
		host: '127.0.0.1',
		port: 0,
		listenIp: '127.0.0.1',
		numWorkers: 2,
		rtcMinPort: 47000,
		rtcMaxPort: 47999,
		maxPeersPerRoom: 7,
		peerTimeout: 3600,
		reconnectGrace: 2,
		roomIdleTimeout: 2,
		frontendUrl: '*',
		...overrides
	};
}

export class BenchServer {
	readonly spec: StackSpec;
	readonly ready: ReadyMessage;
	readonly logFile: string;
	readonly #child: ChildProcess;
	readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
	#nextId = 0;
	#exited: Promise<number | null>;

	static async start(spec: StackSpec, overrides: ConfigInput = {}): Promise<BenchServer> {
		const options: BenchServerOptions = { stack: spec.stack, listener: spec.listener, overrides: benchConfig(overrides) };
		const logFile = path.join(os.tmpdir(), `vcall-bench-server-${spec.stack}-${spec.listener}-${Date.now()}.log`);
		const log = fs.openSync(logFile, 'a');
		const child = fork(ENTRY, [JSON.stringify(options)], {
			// VCALL_BENCH_SERVER_ARGS adds Node options to the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
			execArgv: ['--expose-gc', ...(process.env.VCALL_BENCH_SERVER_ARGS?.split(/\s+/).filter(Boolean) ?? [])],
			stdio: ['ignore', log, log, 'ipc'],
			env: { ...process.env, DEBUG: '' }
		});

		fs.closeSync(log);

		const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
		const ready = await new Promise<ReadyMessage>((resolve, reject) => {
			const timer = setTimeout(() => {
				// Left running, it and its workers would take the CPUs from every later benchmark.
				child.kill('SIGKILL');
				reject(new Error(`bench server did not start in 30 s (log: ${logFile})`));
			}, 30_000);

			child.once('message', (message) => {
				clearTimeout(timer);
				resolve(message as ReadyMessage);
			});
			void exited.then((code) => {
				clearTimeout(timer);
				reject(new Error(`bench server exited with ${code} before it was ready:\n${tail(logFile)}`));
			});
		});

		return new BenchServer(spec, child, ready, logFile, exited);
	}

	private constructor(spec: StackSpec, child: ChildProcess, ready: ReadyMessage, logFile: string, exited: Promise<number | null>) {
		this.spec = spec;
		this.#child = child;
		this.ready = ready;
		this.logFile = logFile;
		this.#exited = exited;
		child.on('message', (message: { type?: string; id?: number; result?: unknown; error?: string }) => {
			if (message.type !== 'reply' || message.id === undefined) return;

			const pending = this.#pending.get(message.id);

			this.#pending.delete(message.id);
			if (message.error) pending?.reject(new Error(message.error));
			else pending?.resolve(message.result);
		});
		void exited.then((code) => {
			for (const pending of this.#pending.values()) pending.reject(new Error(`bench server exited (${code})`));
			this.#pending.clear();
		});
	}

	get pid(): number {
		return this.ready.pid;
	}

	get url(): string {
		return this.ready.url;
	}

	sample(): ServerSample {
		return sampleServer(this.pid);
	}

	#command<T>(cmd: string, timeoutMs = 30_000): Promise<T> {
		const id = ++this.#nextId;

		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new Error(`bench server did not answer ${cmd} in ${timeoutMs} ms`));
			}, timeoutMs);

			this.#pending.set(id, {
				resolve: (value) => {
					clearTimeout(timer);
					resolve(value as T);
				},
				reject: (error) => {
					clearTimeout(timer);
					reject(error);
				}
			});
			this.#child.send({ id, cmd });
		});
	}

	inspect(): Promise<Inspection> {
		return this.#command<Inspection>('inspect');
	}

	async gc(): Promise<void> {
		await this.#command('gc');
	}

	/** GET a path of the server's HTTP side as JSON (e.g. /health). */
	async getJson<T>(pathname: string): Promise<T> {
		return JSON.parse(await this.getText(pathname)) as T;
	}

	/** GET without keep-alive: the runner's connection must not linger in the server's open fds. */
	getText(pathname: string): Promise<string> {
		return new Promise((resolve, reject) => {
			const request = http.get(`${this.ready.httpUrl}${pathname}`, { agent: false, timeout: 10_000 }, (response) => {
				let body = '';

				response.setEncoding('utf8');
				response.on('data', (chunk: string) => (body += chunk));
				response.on('end', () => resolve(body));
				response.on('error', reject);
			});

			request.on('timeout', () => request.destroy(new Error(`GET ${pathname} timed out`)));
			request.on('error', reject);
		});
	}

	/** Graceful stop; SIGKILL after 15 s. */
	async stop(): Promise<void> {
		if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;

		const kill = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);

		try {
			this.#child.send({ id: ++this.#nextId, cmd: 'stop' });
		} catch {
			this.#child.kill('SIGTERM');
		}
		await this.#exited;
		clearTimeout(kill);
	}
}

function tail(file: string, lines = 20): string {
	try {
		return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
	} catch {
		return '';
	}
}
