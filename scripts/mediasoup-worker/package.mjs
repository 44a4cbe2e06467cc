// @ts-check
// The installed mediasoup npm package: where it is, which version, and where
// mediasoup looks for its worker binary.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InstallError } from './output.mjs';

/** The project root (this file is scripts/mediasoup-worker/package.mjs). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * @typedef {object} MediasoupPackage
 * @property {string} dir the package directory
 * @property {string} version
 * @property {string} repositoryUrl package.json's repository.url ('' if none)
 */

/** @returns {MediasoupPackage} */
export function findMediasoup() {
	const require = createRequire(path.join(ROOT, 'package.json'));
	let entry;

	try {
		entry = require.resolve('mediasoup');
	} catch {
		throw new InstallError(
			'the mediasoup package is not installed',
			'Run `npm ci` in the project root.'
		);
	}

	// The entry point is <dir>/node/lib/index.js (mediasoup resolves itself
	// the same way).
	const dir = path.resolve(path.dirname(entry), '..', '..');
	const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));

	if (pkg.name !== 'mediasoup') {
		throw new InstallError(`unexpected layout of the mediasoup package at ${dir}`);
	}

	return { dir, version: pkg.version, repositoryUrl: pkg.repository?.url ?? '' };
}

/**
 * Where mediasoup looks for the binary when neither MEDIASOUP_WORKER_BIN nor
 * createWorker({ workerBin }) says otherwise.
 *
 * @param {MediasoupPackage} mediasoup
 */
export function defaultWorkerPath(mediasoup) {
	return path.join(mediasoup.dir, 'worker', 'out', 'Release', 'mediasoup-worker');
}
