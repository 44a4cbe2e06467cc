// Starts server-child.js (the server under test) in a process of its own and
// talks to it over IPC: the one launcher of the E2E, network and benchmark
// runs. The child's output is kept (its last lines go into failure messages)
// and, when asked, echoed to this process's stderr.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../lib/config/options.js';
import type { ListenerKind } from '../../lib/listener/types.js';
import { OutputTail } from './output-tail.js';
import { sampleServer, type ServerSample } from './proc.js';
import type { Command, EventLoopLag, Inspection, ReadyMessage, SocketWrites, StackKind } from './server-child.js';

const CHILD = fileURLToPath(new URL('./server-child.js', import.meta.url));

export type { EventLoopLag, Inspection, SocketWrites, StackKind };

/** How a process is started: child_process.spawn, or Sandbox.spawn in a network namespace. */
export type Spawner = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface ServerProcessOptions {
	/** Config overrides on top of testConfig(). */
	overrides?: ConfigInput;
	/** Default 'vcall'. */
	stack?: StackKind;
	/** vcall only: the listener to force. */
	listener?: ListenerKind;
	/** Extra Node options for the child (e.g. --expose-gc). */
	nodeArgs?: string[];
	/** The child's environment (default: this process's). */
	env?: NodeJS.ProcessEnv;
	/** Echo the child's output to this process's stderr (default false: only kept). */
	echo?: boolean;
	spawn?: Spawner;
	/** ms to wait for the child to listen (then it is killed). */
	readyTimeout?: number;
}

export class ServerProcess {
	readonly url: string;
	/** wss:// when the server was given a certificate. */
	readonly secureUrl: string | undefined;
	readonly httpUrl: string;
	/** /metrics, /health with internals. */
	readonly opsUrl: string;
	readonly pid: number;
	readonly workerPids: number[];
	/** The listener kind ('uws', 'node', 'protoo-server') and why it was picked. */
	readonly listener: string;
	readonly listenerReason: string;
	readonly #child: ChildProcess;
	readonly #output: OutputTail;
	readonly #exited: Promise<void>;
	readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
	#nextId = 0;

	static async start(options: ServerProcessOptions = {}): Promise<ServerProcess> {
		const childOptions = { stack: options.stack ?? 'vcall', listener: options.listener, overrides: options.overrides ?? {} };
		// A test runner's IPC channel (ava's workers have one) must not leak into the child.
		const env = { ...(options.env ?? process.env) };

		delete env.NODE_CHANNEL_FD;
		delete env.NODE_CHANNEL_SERIALIZATION_MODE;

		const child = (options.spawn ?? spawn)(process.execPath, [...(options.nodeArgs ?? []), CHILD, JSON.stringify(childOptions)], {
			stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
			env
		});
		const output = new OutputTail(child, { echo: options.echo ?? false });
		const exited = new Promise<void>((resolve) => {
			if (child.exitCode !== null || child.signalCode !== null) resolve();
			else child.once('exit', () => resolve());
		});
		const timeout = options.readyTimeout ?? 30_000;
		const ready = await new Promise<ReadyMessage>((resolve, reject) => {
			const timer = setTimeout(() => {
				// Left running, it and its workers would take the CPUs from whatever runs next.
				child.kill('SIGKILL');
				reject(new Error(`server process did not listen within ${timeout} ms:\n${output.tail(30)}`));
			}, timeout);

			child.once('message', (message) => {
				clearTimeout(timer);
				resolve(message as ReadyMessage);
			});
			child.once('error', (error) => {
				clearTimeout(timer);
				reject(error);
			});
			void exited.then(() => {
				clearTimeout(timer);
				reject(new Error(`server process exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.tail(30)}`));
			});
		});

		return new ServerProcess(child, ready, output, exited);
	}

	private constructor(child: ChildProcess, ready: ReadyMessage, output: OutputTail, exited: Promise<void>) {
		this.#child = child;
		this.#output = output;
		this.#exited = exited;
		this.url = ready.url;
		this.secureUrl = ready.secureUrl;
		this.httpUrl = ready.httpUrl;
		this.opsUrl = ready.opsUrl;
		this.pid = ready.pid;
		this.workerPids = ready.workerPids;
		this.listener = ready.listener;
		this.listenerReason = ready.listenerReason;
		child.on('message', (message: { type?: string; id?: number; result?: unknown; error?: string }) => {
			if (message.type !== 'reply' || message.id === undefined) return;

			const pending = this.#pending.get(message.id);

			this.#pending.delete(message.id);
			if (message.error) pending?.reject(new Error(message.error));
			else pending?.resolve(message.result);
		});
		void exited.then(() => {
			for (const pending of this.#pending.values()) pending.reject(new Error(`server process exited (${child.exitCode ?? child.signalCode})`));
			this.#pending.clear();
		});
	}

	get alive(): boolean {
		return this.#child.exitCode === null && this.#child.signalCode === null;
	}

	/** The last lines the server printed. */
	output(lines = 30): string {
		return this.#output.tail(lines);
	}

	#command<T>(cmd: Command, timeoutMs = 30_000): Promise<T> {
		const id = ++this.#nextId;

		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new Error(`server process did not answer ${cmd} in ${timeoutMs} ms`));
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

	/** Rooms, peers, media and worker internals of the server. */
	inspect(): Promise<Inspection> {
		return this.#command<Inspection>('inspect');
	}

	/** A full garbage collection in the server (a no-op unless started with --expose-gc). */
	async gc(): Promise<void> {
		await this.#command('gc');
	}

	/** The server's event-loop delay since the previous call. */
	lag(): Promise<EventLoopLag> {
		return this.#command<EventLoopLag>('lag');
	}

	/** Writes to client sockets so far, TLS and plain. */
	writes(): Promise<SocketWrites> {
		return this.#command<SocketWrites>('writes');
	}

	/** CPU, memory and fds of the server's Node process and its workers, from /proc. */
	sample(): ServerSample {
		return sampleServer(this.pid);
	}

	/** GET a path of the server's ops listener as JSON (e.g. /health with the media counts). */
	async getJson<T>(pathname: string): Promise<T> {
		return JSON.parse(await this.getText(pathname)) as T;
	}

	/** GET without keep-alive: this process's connection must not linger in the server's open fds. */
	getText(pathname: string): Promise<string> {
		return new Promise((resolve, reject) => {
			const request = http.get(`${this.opsUrl}${pathname}`, { agent: false, timeout: 10_000 }, (response) => {
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

	/** Starts the server's drain: no new rooms, and it exits once its calls end. */
	async drain(): Promise<void> {
		await this.#command('drain');
	}


	/** Sends a signal to the server process (SIGKILL: a power loss; SIGSTOP: a hung node). */
	signal(signal: NodeJS.Signals): void {
		this.#child.kill(signal);
	}

	/** Resolves when the process has exited. */
	get exited(): Promise<void> {
		return this.#exited;
	}

	/** Graceful stop; SIGKILL after graceMs. */
	async stop(graceMs = 15_000): Promise<void> {
		if (!this.alive) return;

		const kill = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);

		// The IPC channel may close just before 'exit': SIGTERM does the same then.
		this.#child.send({ id: ++this.#nextId, cmd: 'stop' }, (error) => {
			if (error) this.#child.kill('SIGTERM');
		});
		await this.#exited;
		clearTimeout(kill);
	}
}
