// @ts-check
// Whether a mediasoup-worker binary works on this machine: a quick start, and
// a real one through mediasoup's Node library.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InstallError } from './output.mjs';

/** @typedef {import('./package.mjs').MediasoupPackage} MediasoupPackage */
/** @typedef {{ ok: true } | { ok: false, detail: string }} CheckResult */

// mediasoup-worker exits with 41 when started without MEDIASOUP_VERSION (i.e.
// not by mediasoup's Node library): a run that gets this far proves that the
// binary and all its shared libraries load on this machine.
const WORKER_NO_PARENT_EXIT_CODE = 41;
const RUN_CHECK_TIMEOUT_MS = 10_000;
// Generous: a broken worker fails at once, a busy machine is just slow.
const SMOKE_TEST_TIMEOUT_MS = 60_000;

/**
 * Quick check: does it start at all on this machine?
 *
 * @param {string} bin
 * @returns {CheckResult}
 */
export function runCheck(bin) {
	const env = { ...process.env };

	delete env.MEDIASOUP_VERSION;

	const result = spawnSync(bin, [], {
		env,
		encoding: 'utf8',
		timeout: RUN_CHECK_TIMEOUT_MS,
		stdio: ['ignore', 'ignore', 'pipe']
	});

	if (result.status === WORKER_NO_PARENT_EXIT_CODE) {
		return { ok: true };
	}

	const stderr = (result.stderr ?? '').trim().split('\n').slice(0, 2).join(' ');
	const errorCode = /** @type {NodeJS.ErrnoException | undefined} */ (result.error)?.code;
	const detail = errorCode ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`);

	return { ok: false, detail: stderr ? `${detail}: ${stderr}` : detail };
}

/**
 * Real check: mediasoup's own Node library starts the worker and talks to it.
 *
 * @param {string} bin
 * @param {MediasoupPackage} mediasoup
 */
export async function smokeTest(bin, mediasoup) {
	/** @type {import('mediasoup').types.Worker | undefined} */
	let worker;

	try {
		/** @type {typeof import('mediasoup')} */
		const lib = await import(pathToFileURL(path.join(mediasoup.dir, 'node', 'lib', 'index.js')).href);

		worker = await withTimeout(lib.createWorker({ workerBin: bin, logLevel: 'error' }), SMOKE_TEST_TIMEOUT_MS);

		const router = await withTimeout(
			worker.createRouter({
				mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }]
			}),
			SMOKE_TEST_TIMEOUT_MS
		);

		router.close();
	} catch (error) {
		throw new InstallError(
			`mediasoup could not run the worker ${bin}: ${/** @type {Error} */ (error).message}`,
			'Report this together with the output above.'
		);
	} finally {
		worker?.close();
	}
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms) {
	/** @type {NodeJS.Timeout | undefined} */
	let timer;

	return Promise.race([
		promise,
		/** @type {Promise<never>} */ (
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
			})
		)
	]).finally(() => clearTimeout(timer));
}
