// Debian's redis-server run by a test on a loopback port, with no persistence
// (a restart starts empty, as a fresh Redis box would), stopped and started
// again on the same port for the outage tests.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './listeners.js';
import { stopChild } from './process.js';
import { waitFor } from './wait.js';

/** Why redis-server cannot run here, or undefined. */
export function redisMissing(): string | undefined {
	return spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0
		? undefined
		: 'redis-server is not installed (apt-get install -y redis-server)';
}

export class RedisServer {
	readonly port: number;
	#child: ChildProcess | undefined;
	#log = '';

	private constructor(port: number) {
		this.port = port;
	}

	static async start(): Promise<RedisServer> {
		const redis = new RedisServer(await freePort());

		await redis.restart();

		return redis;
	}

	get url(): string {
		return `redis://127.0.0.1:${this.port}`;
	}

	/** Starts it (again, empty) on its port; resolves once it accepts connections. */
	async restart(): Promise<void> {
		await this.stop();
		this.#log = '';

		const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
			stdio: ['ignore', 'pipe', 'pipe']
		});

		for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
		this.#child = child;
		await waitFor(
			() => {
				if (child.exitCode !== null) throw new Error(`redis-server exited:\n${this.#log.slice(-2000)}`);

				return this.#log.includes('Ready to accept connections');
			},
			{ timeout: 10_000, interval: 50, what: 'redis-server to accept connections' }
		);
	}

	async stop(): Promise<void> {
		if (this.#child) await stopChild(this.#child, 3000);
		this.#child = undefined;
	}
}
