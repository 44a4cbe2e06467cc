// A lock shared by the browser and network-namespace test files of every
// process on the machine: their Chromiums would otherwise compete for the
// same two cores (ava runs several test files at once) and the figures they
// measure would be those of the contention.
//
// The lock is a symbolic link to a directory holding its holder's `pid` file.
// The directory is complete before the link is made, and making a link is
// atomic and fails if anything is in its place, so no one ever sees a lock
// without its holder's pid. (`<lock>/pid` reads the same through the link as
// from the plain directory that older versions made with mkdir.) A lock is
// stale when its holder is gone, or when it has no pid file and is older than
// a few seconds.

import { lstat, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './process.js';

/** The machine-wide lock of the browser and network suites. */
const E2E_LOCK = path.join(os.tmpdir(), 'vcall-e2e.lock');
/** A lock without a pid file this old is abandoned. */
const NO_PID_STALE_MS = 5000;

/** The holder's pid, or undefined when the lock has none (or is gone). */
async function holderOf(lock: string): Promise<number | undefined> {
	const pid = Number.parseInt(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''), 10);

	return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function isStale(lock: string, holder: number | undefined): Promise<boolean> {
	if (holder !== undefined) return !processAlive(holder);

	const info = await lstat(lock).catch(() => undefined);

	return info !== undefined && Date.now() - info.mtimeMs > NO_PID_STALE_MS;
}

/** Removes a lock (the link and the directory it points to, or a plain directory). */
async function removeLock(lock: string): Promise<void> {
	const target = await readlink(lock).catch(() => undefined);

	await rm(lock, { recursive: true, force: true });
	if (target) await rm(path.resolve(path.dirname(lock), target), { recursive: true, force: true });
}

/** Moves a stale lock away; puts it back if it turns out to be someone's fresh lock. */
async function removeStale(lock: string, holder: number | undefined): Promise<void> {
	const aside = `${lock}.stale-${process.pid}-${Date.now()}`;

	try {
		await rename(lock, aside);
	} catch {
		return; // someone else took it away first
	}
	// Between our look and our rename another waiter may have replaced the stale lock with its own.
	if ((await holderOf(aside)) !== holder && (await rename(aside, lock).then(() => true, () => false))) return;
	await removeLock(aside);
}

/** Waits for the machine-wide lock (or the lock at `lock`); resolves with its release function. */
export async function acquireE2eLock({ lock = E2E_LOCK, timeoutMs = 15 * 60_000 }: { lock?: string; timeoutMs?: number } = {}): Promise<{ release: () => Promise<void> }> {
	const started = Date.now();
	const mine = await mkdtemp(`${lock}.holder-`);

	await writeFile(path.join(mine, 'pid'), String(process.pid));

	for (;;) {
		try {
			await symlink(mine, lock);
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
				await rm(mine, { recursive: true, force: true });
				throw error;
			}

			const holder = await holderOf(lock);

			if (await isStale(lock, holder)) {
				await removeStale(lock, holder);
				continue;
			}
			if (Date.now() - started > timeoutMs) {
				await rm(mine, { recursive: true, force: true });
				throw new Error(`lock ${lock} still held by pid ${holder ?? '?'} after ${timeoutMs} ms`);
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}

	let released = false;

	return {
		release: async () => {
			if (released) return;
			released = true;
			// Only if it is still ours (a holder judged stale by mistake may have lost it).
			if ((await readlink(lock).catch(() => undefined)) === mine) await rm(lock, { force: true });
			await rm(mine, { recursive: true, force: true });
		}
	};
}
