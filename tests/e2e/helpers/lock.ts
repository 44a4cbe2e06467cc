// A lock shared by the E2E test files of every process on the machine: their
// Chromiums would otherwise compete for the same two cores (ava runs several
// test files at once) and the figures they measure would be those of the
// contention. A directory is the lock; a holder that died is noticed by its
// pid and the lock is taken over.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../../helpers/process.js';

const LOCK_DIR = path.join(os.tmpdir(), 'vcall-e2e.lock');

/** Waits for the machine-wide E2E lock; returns how long it waited (ms) and a release function. */
export async function acquireE2eLock(timeoutMs = 15 * 60_000): Promise<{ waitedMs: number; release: () => Promise<void> }> {
	const started = Date.now();
	const owner = path.join(LOCK_DIR, 'pid');

	for (;;) {
		try {
			await mkdir(LOCK_DIR);
			await writeFile(owner, String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;

			const holder = Number.parseInt(await readFile(owner, 'utf8').catch(() => ''), 10);

			// A holder that is gone (or never wrote its pid within a few seconds) leaves the lock free.
			if ((Number.isInteger(holder) && !processAlive(holder)) || (!holder && Date.now() - started > 5000)) {
				await rm(LOCK_DIR, { recursive: true, force: true });
				continue;
			}
			if (Date.now() - started > timeoutMs) throw new Error(`E2E lock ${LOCK_DIR} still held by pid ${holder} after ${timeoutMs} ms`);
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}

	let released = false;

	return {
		waitedMs: Date.now() - started,
		release: async () => {
			if (released) return;
			released = true;
			await rm(LOCK_DIR, { recursive: true, force: true });
		}
	};
}
