// @ts-check
// The installer's order of sources for the worker binary (see
// scripts/install-worker.mjs, its entry point).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFromSource } from './build.mjs';
import { cachePath, copyAtomically, installFromCache, storeInCache } from './cache.mjs';
import { runCheck, smokeTest } from './check.mjs';
import { readDistro } from './distro.mjs';
import { withInstallLock } from './lock.mjs';
import { elapsed, InstallError, log } from './output.mjs';
import { defaultWorkerPath, findMediasoup } from './package.mjs';
import { getPrebuilt } from './prebuilt.mjs';

/** @typedef {import('./distro.mjs').Distro} Distro */
/** @typedef {import('./package.mjs').MediasoupPackage} MediasoupPackage */

/** Provides the worker binary, or throws (an InstallError says what to do). */
export async function installWorker() {
	if (process.env.VCALL_SKIP_WORKER === '1') {
		log('VCALL_SKIP_WORKER=1: not installing mediasoup-worker');
		return;
	}

	const mediasoup = findMediasoup();
	const target = defaultWorkerPath(mediasoup);

	if (alreadyProvided(target)) {
		return;
	}

	const distro = readDistro();
	const cacheFile = cachePath(mediasoup.version, distro);

	if (await installFromCache(cacheFile, target, mediasoup)) {
		return;
	}

	await withInstallLock(cacheFile, async () => {
		// Another install may have filled the cache while this one waited.
		if (!(await installFromCache(cacheFile, target, mediasoup))) {
			await obtainAndInstall(mediasoup, distro, cacheFile, target);
		}
	});
}

/**
 * True if MEDIASOUP_WORKER_BIN names a file or a working binary is in place.
 *
 * @param {string} target
 */
function alreadyProvided(target) {
	const envBin = process.env.MEDIASOUP_WORKER_BIN;

	if (envBin) {
		if (fs.existsSync(envBin)) {
			log(`MEDIASOUP_WORKER_BIN=${envBin} exists; mediasoup will use it, nothing to do`);
			return true;
		}

		log(`MEDIASOUP_WORKER_BIN=${envBin} does not exist; installing the default binary anyway`);
	}

	if (!fs.existsSync(target)) {
		return false;
	}

	const check = runCheck(target);

	if (check.ok) {
		log(`mediasoup-worker already in place: ${target}`);
		return true;
	}

	log(`the existing ${target} does not run (${check.detail}); replacing it`);

	return false;
}

/**
 * The official prebuilt, else a build from source; checked, cached, installed.
 *
 * @param {MediasoupPackage} mediasoup
 * @param {Distro} distro
 * @param {string} cacheFile
 * @param {string} target
 */
async function obtainAndInstall(mediasoup, distro, cacheFile, target) {
	const started = Date.now();
	const fresh =
		(await getPrebuilt(mediasoup)) ??
		(await buildFromSource(mediasoup, distro, path.dirname(cacheFile)));

	try {
		await smokeTest(fresh.bin, mediasoup);
		storeInCache(fresh.bin, cacheFile);
		copyAtomically(fresh.bin, target);
	} finally {
		fresh.cleanup();
	}

	const check = runCheck(target);

	if (!check.ok) {
		throw new InstallError(`the installed ${target} does not run (${check.detail})`);
	}

	log(`mediasoup-worker ${mediasoup.version} ready (${fresh.origin}, ${elapsed(started)}): ${target}`);
}
