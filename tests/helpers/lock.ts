// A lock shared by the browser and network-namespace test files of every
// process on the machine: their Chromiums would otherwise compete for the
// same two cores (ava runs several test files at once) and the figures they
// measure would be those of the contention.
//
// The lock is a directory holding a `pid` file. It is made complete first,
// under a name of its own, and then renamed into place: a rename is atomic,
// so no one ever sees the lock without its holder's pid. A lock is stale when
// its holder is gone, or when it has no pid file (left by an older version
// that created the directory first) and is older than a few seconds.

import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './process.js';

const LOCK_DIR = path.join(os.tmpdir(), 'vcall-e2e.lock');
/** A lock directory without a pid file this old is abandoned. */
const NO_PID_STALE_MS = 5000;

/** The holder's pid, or undefined when the directory has none (or is gone). */
async function holderOf(dir: string): Promise<number | undefined> {
	const pid = Number.parseInt(await readFile(path.join(dir, 'pid'), 'utf8').catch(() => ''), 10);

	return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function isStale(holder: number | undefined): Promise<boolean> {
	if (holder !== undefined) return !processAlive(holder);

	const info = await stat(LOCK_DIR).catch(() => undefined);

	return info !== undefined && Date.now() - info.mtimeMs > NO_PID_STALE_MS;
}

/** Moves a stale lock away; puts it back if it turns out to be someone's fresh lock. */
async function removeStale(holder: number | undefined): Promise<void> {
	const aside = `${LOCK_DIR}.stale-${process.pid}-${Date.now()}`;

	try {
		await rename(LOCK_DIR, aside);
	} catch {
		return; // someone else took it away first
	}
	if ((await holderOf(aside)) !== holder) {
		// Between our look and our rename another waiter replaced the stale lock with its own.
		await rename(aside, LOCK_DIR).catch(() => undefined);
	}
	await rm(aside, { recursive: true, force: true });
}

/** Waits for the machine-wide lock; resolves with its release function. */
export async function acquireE2eLock(timeoutMs = 15 * 60_000): Promise<{ release: () => Promise<void> }> {
	const started = Date.now();
	const mine = await mkdtemp(`${LOCK_DIR}.new-`);

	await writeFile(path.join(mine, 'pid'), String(process.pid));

	for (;;) {
		try {
			// Fails (EEXIST or ENOTEMPTY) while another lock is in place.
			await rename(mine, LOCK_DIR);
			break;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;

			if (code !== 'EEXIST' && code !== 'ENOTEMPTY') {
				await rm(mine, { recursive: true, force: true });
				throw error;
			}

			const holder = await holderOf(LOCK_DIR);

			if (await isStale(holder)) {
				await removeStale(holder);
				continue;
			}
			if (Date.now() - started > timeoutMs) {
				await rm(mine, { recursive: true, force: true });
				throw new Error(`E2E lock ${LOCK_DIR} still held by pid ${holder ?? '?'} after ${timeoutMs} ms`);
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}

	let released = false;

	return {
		release: async () => {
			if (released) return;
			released = true;
			await rm(LOCK_DIR, { recursive: true, force: true });
		}
	};
}
