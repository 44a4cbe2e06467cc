// Debian's coturn (turnserver) run by a test from the repository's example
// configuration, with the settings a test needs changed: the example itself is
// what gets exercised, not a hand-written stand-in.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from './process.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../systemd/coturn.conf.example');
/** Printed by turnserver once it listens and can allocate relays. */
const READY_LINE = 'Relay ports initialization done';

export function exampleConfig(): string {
	return fs.readFileSync(EXAMPLE, 'utf8');
}

/** Why coturn cannot run here, or undefined. */
export function coturnMissing(): string | undefined {
	return spawnSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' }).status === 0
		? undefined
		: 'turnserver is not installed (apt-get install -y coturn)';
}

/**
 * The example with each key of `set` replaced (every line of that key goes,
 * the new value is appended; `true` for a flag, `null` to drop the key).
 */
export function configFrom(example: string, set: Record<string, string | true | null>): string {
	const keys = new Set(Object.keys(set));
	const kept = example.split('\n').filter((line) => !keys.has(line.split('=')[0]!.trim()));
	const added = Object.entries(set)
		.filter(([, value]) => value !== null)
		.map(([key, value]) => (value === true ? key : `${key}=${value}`));

	return [...kept, '# --- set by the test', ...added, ''].join('\n');
}

export class Coturn {
	readonly #child: ChildProcess;
	#log = '';

	private constructor(child: ChildProcess) {
		this.#child = child;
		child.stdout!.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
		child.stderr!.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
	}

	/** Writes `config` into `dir` and starts turnserver on it; resolves once it relays. */
	static async start(config: string, dir: string, timeoutMs = 10_000): Promise<Coturn> {
		const file = path.join(dir, 'turnserver.conf');

		fs.writeFileSync(file, config);

		const turn = new Coturn(spawn('turnserver', ['-c', file, `--pidfile=${path.join(dir, 'turnserver.pid')}`], { stdio: ['ignore', 'pipe', 'pipe'] }));
		const exited = new Promise<void>((resolve) => turn.#child.once('exit', () => resolve()));
		const deadline = Date.now() + timeoutMs;

		while (!turn.#log.includes(READY_LINE)) {
			const gone = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 100))]);

			if (gone || Date.now() > deadline) {
				turn.#child.kill('SIGKILL');
				throw new Error(`turnserver ${gone ? 'exited' : 'did not get ready'}:\n${turn.#log.slice(-3000)}`);
			}
		}

		return turn;
	}

	/** Everything turnserver printed so far. */
	get log(): string {
		return this.#log;
	}

	stop(): Promise<void> {
		return stopChild(this.#child, 3000);
	}
}
