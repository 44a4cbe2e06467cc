// The machine-wide lock of the browser and network suites
// (tests/helpers/lock.ts), on a lock directory of the test's own: real
// processes compete for it, and stale locks are taken over.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquireE2eLock } from './helpers/lock.js';

const LOCK_MODULE = new URL('./helpers/lock.js', import.meta.url).href;

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'vcall-lock-test-'));

	t.teardown(() => rm(dir, { recursive: true, force: true }));

	return dir;
}

/** A pid that ran a moment ago and is gone now. */
async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', '']);

	await new Promise((resolve) => child.once('exit', resolve));

	return child.pid!;
}

test('processes that compete for the lock hold it one at a time', async (t) => {
	const dir = await scratch(t);
	const lock = path.join(dir, 'lock');
	const marker = path.join(dir, 'holder');
	// Each holder creates the marker exclusively ('wx' fails if another holder has it), keeps it a while, removes it.
	const script = `
		import { open, rm } from 'node:fs/promises';
		import { acquireE2eLock } from ${JSON.stringify(LOCK_MODULE)};
		for (let i = 0; i < 3; i++) {
			const { release } = await acquireE2eLock({ lock: ${JSON.stringify(lock)}, timeoutMs: 60000 });
			const file = await open(${JSON.stringify(marker)}, 'wx');
			await new Promise((resolve) => setTimeout(resolve, 30));
			await file.close();
			await rm(${JSON.stringify(marker)});
			await release();
		}`;
	const codes = await Promise.all(
		Array.from({ length: 4 }, () => {
			const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });

			return new Promise<number | null>((resolve) => child.once('exit', resolve));
		})
	);

	t.deepEqual(codes, [0, 0, 0, 0], 'no process found the marker of another holder');
	t.deepEqual(await readdir(dir), [], 'no lock, marker or temporary directory left');
});

test('a lock whose holder is gone is taken over at once; a live holder is waited for', async (t) => {
	const dir = await scratch(t);
	const lock = path.join(dir, 'lock');

	// As older versions left it: a plain directory with the pid of a holder that died.
	await mkdir(lock);
	await writeFile(path.join(lock, 'pid'), String(await deadPid()));

	const started = Date.now();
	const first = await acquireE2eLock({ lock, timeoutMs: 10_000 });

	t.true(Date.now() - started < 2000, 'the dead holder did not delay it');
	await t.throwsAsync(acquireE2eLock({ lock, timeoutMs: 1000 }), { message: new RegExp(`held by pid ${process.pid}`) }, 'a live holder keeps it');
	await first.release();

	const second = await acquireE2eLock({ lock, timeoutMs: 1000 });

	await second.release();
	t.deepEqual(await readdir(dir), [], 'nothing left behind');
});

test('a lock directory without a pid (as older versions made it) is taken over only once it is a few seconds old', async (t) => {
	const dir = await scratch(t);
	const lock = path.join(dir, 'lock');

	await mkdir(lock);
	await t.throwsAsync(acquireE2eLock({ lock, timeoutMs: 1000 }), { message: /still held/ }, 'a fresh one may be an older version writing its pid');

	const old = (Date.now() - 60_000) / 1000;

	await utimes(lock, old, old);

	const { release } = await acquireE2eLock({ lock, timeoutMs: 5000 });

	await release();
	t.deepEqual(await readdir(dir), []);
});
