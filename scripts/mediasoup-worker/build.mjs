// @ts-check
// Building mediasoup-worker from the C++ sources in the mediasoup npm package
// against the distro's libraries, with the stand-in subprojects (README.md).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuildDependencies } from './apt.mjs';
import { runCheck } from './check.mjs';
import { elapsed, InstallError, log, printLogTail } from './output.mjs';
import { runLogged } from './run.mjs';
import { placeStandIns } from './standins.mjs';

/** @typedef {import('./distro.mjs').Distro} Distro */
/** @typedef {import('./package.mjs').MediasoupPackage} MediasoupPackage */
/** @typedef {import('./prebuilt.mjs').FreshWorker} FreshWorker */

const BUILD_DIR_PREFIX = 'vcall-worker-build-';
const PROGRESS_INTERVAL_MS = 20_000;

/**
 * @param {MediasoupPackage} mediasoup
 * @param {Distro} distro
 * @param {string} cacheDir where to build (see makeBuildRoot)
 * @returns {Promise<FreshWorker>}
 */
export async function buildFromSource(mediasoup, distro, cacheDir) {
	const started = Date.now();
	const buildRoot = makeBuildRoot(cacheDir);
	const logFile = path.join(buildRoot, 'build.log');

	log(`building mediasoup-worker ${mediasoup.version} from source on ${distro.pretty}`);

	try {
		ensureBuildDependencies(distro, logFile);
		log(`build directory: ${buildRoot} (log: build.log)`);

		const srcDir = path.join(buildRoot, 'worker');
		const outDir = path.join(buildRoot, 'build');

		prepareSourceTree(path.join(mediasoup.dir, 'worker'), srcDir);

		log('configuring (meson)');
		await runLogged('meson', mesonSetupArgs(outDir, srcDir), logFile);
		await runNinja(outDir, logFile);

		const bin = path.join(outDir, 'mediasoup-worker');
		const check = runCheck(bin);

		if (!check.ok) {
			throw new InstallError(`the freshly built worker does not run (${check.detail})`);
		}

		log(`built in ${elapsed(started)}`);

		return {
			bin,
			origin: 'built from source',
			cleanup: () => fs.rmSync(buildRoot, { recursive: true, force: true })
		};
	} catch (error) {
		// Keep buildRoot (log and tree) for debugging, unless nothing ran yet.
		if (fs.existsSync(logFile)) {
			printLogTail(logFile);
		} else {
			fs.rmSync(buildRoot, { recursive: true, force: true });
		}

		throw error;
	}
}

/**
 * Copies the worker sources (never building inside node_modules) and puts the
 * stand-in subprojects in place.
 *
 * @param {string} workerDir mediasoup's worker/ directory
 * @param {string} srcDir
 */
export function prepareSourceTree(workerDir, srcDir) {
	fs.cpSync(workerDir, srcDir, {
		recursive: true,
		filter: src => path.relative(workerDir, src) !== 'out'
	});
	placeStandIns(srcDir);
}

/**
 * @param {string} outDir
 * @param {string} srcDir
 * @returns {string[]}
 */
export function mesonSetupArgs(outDir, srcDir) {
	return [
		'setup',
		'--wrap-mode=nodownload',
		'--buildtype=release',
		'-Db_ndebug=true',
		// Always our std-container stand-in, even if a real copy is around.
		'--force-fallback-for=unordered_dense',
		outDir,
		srcDir
	];
}

/**
 * Builds next to the cache rather than in /tmp, which machines may clean
 * while a build runs (the compiler's temporary files go there too, see
 * runLogged).
 *
 * @param {string} cacheDir
 */
function makeBuildRoot(cacheDir) {
	for (const parent of [cacheDir, os.tmpdir()]) {
		try {
			fs.mkdirSync(parent, { recursive: true });

			if (parent === cacheDir) {
				removeOldBuilds(parent);
			}

			return fs.mkdtempSync(path.join(parent, BUILD_DIR_PREFIX));
		} catch {
			// Not writable: try the next one.
		}
	}

	throw new InstallError(`cannot create a build directory in ${cacheDir} or ${os.tmpdir()}`);
}

/**
 * A failed build keeps its directory for debugging until the next build.
 * Builds run under the install lock (in the cache directory), so none of
 * these is in use.
 *
 * @param {string} parent
 */
function removeOldBuilds(parent) {
	for (const name of fs.readdirSync(parent)) {
		if (name.startsWith(BUILD_DIR_PREFIX)) {
			fs.rmSync(path.join(parent, name), { recursive: true, force: true });
		}
	}
}

/**
 * @param {string} outDir
 * @param {string} logFile
 */
async function runNinja(outDir, logFile) {
	const jobs = buildJobs();
	const started = Date.now();
	let progress = '';

	log(`compiling with ${jobs} jobs (about 4 minutes on 2 idle cores); progress every ${PROGRESS_INTERVAL_MS / 1000} s`);

	const timer = setInterval(() => {
		log(`  ... ${progress || 'starting'} steps done, ${elapsed(started)}`);
	}, PROGRESS_INTERVAL_MS);

	try {
		await runLogged('ninja', ['-C', outDir, '-j', String(jobs), 'mediasoup-worker'], logFile, line => {
			const match = /^\[(\d+\/\d+)\]/.exec(line);

			if (match) {
				progress = match[1];
			}
		});
	} finally {
		clearInterval(timer);
	}
}

// One job per CPU, but about 1 GiB of memory each (g++ peaks near 500 MB).
function buildJobs() {
	const byMemory = Math.floor(os.totalmem() / 1024 ** 3);

	return Math.max(1, Math.min(os.availableParallelism(), byMemory));
}
