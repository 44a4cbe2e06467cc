// @ts-check
// mediasoup's official prebuilt worker from GitHub releases (unreachable on
// machines that see only npm and Debian: then this fails fast and the
// installer builds from source).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCheck } from './check.mjs';
import { log } from './output.mjs';

/** @typedef {import('./package.mjs').MediasoupPackage} MediasoupPackage */
/**
 * A worker binary in a temporary place, and how to remove that place.
 *
 * @typedef {object} FreshWorker
 * @property {string} bin
 * @property {string} origin for the log
 * @property {() => void} cleanup
 */

const CONNECT_TIMEOUT_MS = 15_000;
const BODY_TIMEOUT_MS = 120_000;

/**
 * @param {MediasoupPackage} mediasoup
 * @returns {Promise<FreshWorker | null>} null if there is none that runs here
 */
export async function getPrebuilt(mediasoup) {
	if (process.env.VCALL_SKIP_PREBUILT === '1') {
		log('VCALL_SKIP_PREBUILT=1: not trying the prebuilt binary');
		return null;
	}

	const url = prebuiltUrl(mediasoup);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcall-worker-prebuilt-'));
	const cleanup = () => fs.rmSync(workDir, { recursive: true, force: true });

	log(`trying the prebuilt binary: ${url}`);

	try {
		const tarball = path.join(workDir, 'worker.tgz');

		fs.writeFileSync(tarball, await download(url));
		// The tarball holds just the binary, at its top level.
		extract(tarball, workDir, 'mediasoup-worker');

		const bin = path.join(workDir, 'mediasoup-worker');

		fs.chmodSync(bin, 0o755);

		const check = runCheck(bin);

		if (!check.ok) {
			throw new Error(`it does not run on this machine: ${check.detail}`);
		}

		return { bin, origin: 'official prebuilt', cleanup };
	} catch (error) {
		log(`no usable prebuilt binary (${/** @type {Error} */ (error).message}); building from source`);
		cleanup();
		return null;
	}
}

/**
 * Same URL as mediasoup's npm-scripts.mjs (downloadPrebuiltWorker), including
 * its MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL override.
 *
 * @param {MediasoupPackage} mediasoup
 */
function prebuiltUrl(mediasoup) {
	const base =
		process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ||
		`${mediasoup.repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '')}/releases/download`;
	let name = `mediasoup-worker-${mediasoup.version}-${os.platform()}-${os.arch()}`;

	if (os.platform() === 'linux') {
		name += `-kernel${os.release().split('.')[0]}`;
	}

	return `${base}/${mediasoup.version}/${name}.tgz`;
}

/**
 * @param {string} url
 * @returns {Promise<Buffer>}
 */
async function download(url) {
	const controller = new AbortController();
	let timer = setTimeout(() => controller.abort(), CONNECT_TIMEOUT_MS);

	try {
		const response = await fetch(url, { signal: controller.signal });

		if (!response.ok) {
			throw new Error(`HTTP ${response.status}`);
		}

		// Headers came quickly: allow more time for the body (a few MB).
		clearTimeout(timer);
		timer = setTimeout(() => controller.abort(), BODY_TIMEOUT_MS);

		return Buffer.from(await response.arrayBuffer());
	} catch (error) {
		if (controller.signal.aborted) {
			throw new Error('download timed out');
		}

		const { cause, message } = /** @type {Error & { cause?: { code?: string, message?: string } }} */ (error);

		throw new Error(`download failed: ${cause?.code ?? cause?.message ?? message}`);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * @param {string} tarball
 * @param {string} dir
 * @param {string} member
 */
function extract(tarball, dir, member) {
	const result = spawnSync('tar', ['-xzf', tarball, '-C', dir, member], { encoding: 'utf8' });

	if (result.error || result.status !== 0) {
		throw new Error(`tar failed: ${result.error?.message ?? result.stderr.trim()}`);
	}
}
