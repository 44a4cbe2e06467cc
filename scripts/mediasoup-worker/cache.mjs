// @ts-check
// The local cache: one worker binary per mediasoup version, distro, arch and
// stand-in subprojects, so that a second `npm ci` takes seconds.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCheck, smokeTest } from './check.mjs';
import { log } from './output.mjs';
import { standInsHash } from './standins.mjs';

/** @typedef {import('./distro.mjs').Distro} Distro */
/** @typedef {import('./package.mjs').MediasoupPackage} MediasoupPackage */

/**
 * VCALL_WORKER_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vcall.
 *
 * @param {NodeJS.ProcessEnv} env
 */
export function cacheDir(env) {
	return env.VCALL_WORKER_CACHE || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vcall');
}

/**
 * The cached binary for this mediasoup version on this machine (it may not
 * exist yet).
 *
 * @param {string} mediasoupVersion
 * @param {Distro} distro
 */
export function cachePath(mediasoupVersion, distro) {
	return path.join(
		cacheDir(process.env),
		`mediasoup-worker-${mediasoupVersion}-${distro.id}${distro.versionId}-${process.arch}-${standInsHash()}`
	);
}

/**
 * Installs the cached binary at `target` if there is one that works.
 *
 * @param {string} cacheFile
 * @param {string} target
 * @param {MediasoupPackage} mediasoup
 * @returns {Promise<boolean>} whether it did
 */
export async function installFromCache(cacheFile, target, mediasoup) {
	if (!fs.existsSync(cacheFile)) {
		return false;
	}

	const check = runCheck(cacheFile);

	if (!check.ok) {
		// E.g. a distro library changed under it: drop it and get a new one.
		log(`cached ${cacheFile} does not run (${check.detail}); discarding it`);
		fs.rmSync(cacheFile, { force: true });
		return false;
	}

	copyAtomically(cacheFile, target);
	await smokeTest(target, mediasoup);
	log(`mediasoup-worker ${mediasoup.version} installed from cache ${cacheFile}`);

	return true;
}

/**
 * @param {string} bin
 * @param {string} cacheFile
 */
export function storeInCache(bin, cacheFile) {
	try {
		copyAtomically(bin, cacheFile);
		log(`cached at ${cacheFile}`);
	} catch (error) {
		// Not fatal: the next install just has to build again.
		log(`could not write the cache (${/** @type {Error} */ (error).message}); continuing without it`);
	}
}

/**
 * Copies to a temporary file next to the destination, then renames: nobody
 * ever sees half a binary.
 *
 * @param {string} src
 * @param {string} dest
 */
export function copyAtomically(src, dest) {
	const tmp = `${dest}.tmp-${process.pid}`;

	fs.mkdirSync(path.dirname(dest), { recursive: true });

	try {
		fs.copyFileSync(src, tmp);
		fs.chmodSync(tmp, 0o755);
		fs.renameSync(tmp, dest);
	} finally {
		fs.rmSync(tmp, { force: true });
	}
}
