// @ts-check
// Two installs at once (npm ci in two checkouts, say) would each spend minutes
// building the same binary: the later one waits for the earlier one instead.
// The lock is a directory next to the cached binary, holding the owner's pid.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './output.mjs';

const LOCK_POLL_MS = 5_000;
// A lock this old without a pid file was left by an install killed between
// creating it and writing the pid.
const LOCK_WITHOUT_PID_STALE_MS = 60_000;

/**
 * Runs `fn` holding the lock of `cacheFile`; without a lock if the cache
 * directory cannot be created.
 *
 * @template T
 * @param {string} cacheFile
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withInstallLock(cacheFile, fn) {
	const lockDir = `${cacheFile}.lock`;
	let announced = false;

	try {
		fs.mkdirSync(path.dirname(lockDir), { recursive: true });
	} catch (error) {
		log(`cannot create the cache directory (${/** @type {Error} */ (error).message}); going on without a lock`);
		return fn();
	}

	while (!tryLock(lockDir)) {
		if (!announced) {
			log(`another install (pid ${lockOwner(lockDir)}) is getting this worker; waiting for it`);
			announced = true;
		}

		await sleep(LOCK_POLL_MS);
	}

	try {
		return await fn();
	} finally {
		fs.rmSync(lockDir, { recursive: true, force: true });
	}
}

/**
 * @param {string} lockDir
 * @returns {boolean} whether this process now holds the lock
 */
function tryLock(lockDir) {
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
			return true;
		} catch (error) {
			if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') {
				throw error;
			}
		}

		if (!lockIsStale(lockDir)) {
			return false;
		}

		log('removing a lock left behind by an install that is gone');
		fs.rmSync(lockDir, { recursive: true, force: true });
	}
}

/**
 * Stale if its owner is gone. A young lock may not have its pid file yet.
 *
 * @param {string} lockDir
 */
function lockIsStale(lockDir) {
	const owner = lockOwner(lockDir);

	if (owner) {
		return !processAlive(owner);
	}

	const mtime = fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;

	return mtime !== undefined && Date.now() - mtime > LOCK_WITHOUT_PID_STALE_MS;
}

/**
 * @param {string} lockDir
 * @returns {number | null}
 */
function lockOwner(lockDir) {
	try {
		return Number.parseInt(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'), 10) || null;
	} catch {
		return null;
	}
}

/** @param {number} pid */
function processAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
	}
}
