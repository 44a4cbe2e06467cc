#!/usr/bin/env node
// Provides the mediasoup-worker binary at the path mediasoup looks at by
// default (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
// Runs as this project's postinstall, because mediasoup's own install script
// is not run (npm's allowScripts) and could not work here anyway: it downloads
// from GitHub and pip, and our machines reach only npm and Debian.
//
// Tries, in order:
//   1. nothing to do: MEDIASOUP_WORKER_BIN points to a file, or a working
//      binary is already in place;
//   2. the local cache (one binary per mediasoup version, distro and arch);
//   3. mediasoup's official prebuilt binary from GitHub (VCALL_SKIP_PREBUILT=1
//      skips it);
//   4. building it from the sources inside the mediasoup npm package against
//      Debian's libraries (installs the Debian packages when run as root).
// Any failure exits non-zero with one paragraph saying what to do.
//
// Environment: VCALL_SKIP_WORKER=1 skips everything; VCALL_WORKER_CACHE sets
// the cache directory (default ${XDG_CACHE_HOME:-~/.cache}/vcall).
// See scripts/mediasoup-worker/README.md for the build details.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STANDINS_DIR = path.join(ROOT, 'scripts', 'mediasoup-worker', 'subprojects');

// mediasoup-worker exits with 41 when started without MEDIASOUP_VERSION (i.e.
// not by mediasoup's Node library): a run that gets this far proves that the
// binary and all its shared libraries load on this machine.
const WORKER_NO_PARENT_EXIT_CODE = 41;

const PREBUILT_CONNECT_TIMEOUT_MS = 15_000;
const PREBUILT_BODY_TIMEOUT_MS = 120_000;
const PROGRESS_INTERVAL_MS = 20_000;
const LOCK_POLL_MS = 5_000;
// Generous: a broken worker fails at once, a busy machine is just slow.
const SMOKE_TEST_TIMEOUT_MS = 60_000;
const MIN_MESON_VERSION = '1.1.0';

// Debian packages needed to build the worker (meson is handled apart: on
// Debian 12 it has to come from bookworm-backports).
const BUILD_PACKAGES = [
	'gcc',
	'g++',
	'pkg-config',
	'ninja-build',
	'libuv1-dev',
	'libssl-dev',
	'libsrtp2-dev',
	'libflatbuffers-dev',
	'flatbuffers-compiler',
	'libabsl-dev'
];

class InstallError extends Error {
	// `advice` says what the user can do about it.
	constructor(message, advice = '') {
		super(message);
		this.advice = advice;
	}
}

main().then(
	code => process.exit(code),
	error => fail(error)
);

async function main() {
	if (process.env.VCALL_SKIP_WORKER === '1') {
		log('VCALL_SKIP_WORKER=1: not installing mediasoup-worker');
		return 0;
	}

	const mediasoup = findMediasoup();
	const target = path.join(mediasoup.dir, 'worker', 'out', 'Release', 'mediasoup-worker');

	if (alreadyProvided(target)) {
		return 0;
	}

	const distro = readDistro();
	const cacheFile = cachePath(mediasoup.version, distro);

	if (await installFromCache(cacheFile, target, mediasoup)) {
		return 0;
	}

	await withInstallLock(cacheFile, async () => {
		// Another install may have filled the cache while this one waited.
		if (!(await installFromCache(cacheFile, target, mediasoup))) {
			await obtainAndInstall(mediasoup, distro, cacheFile, target);
		}
	});

	return 0;
}

async function obtainAndInstall(mediasoup, distro, cacheFile, target) {
	const started = Date.now();
	const fresh =
		(await getPrebuilt(mediasoup)) ??
		(await buildFromSource(mediasoup, distro, path.dirname(cacheFile)));

	try {
		await smokeTest(fresh.bin, mediasoup);
		storeInCache(fresh.bin, cacheFile);
		installBinary(fresh.bin, target);
	} finally {
		fresh.cleanup();
	}

	const check = runCheck(target);

	if (!check.ok) {
		throw new InstallError(`the installed ${target} does not run (${check.detail})`);
	}

	log(`mediasoup-worker ${mediasoup.version} ready (${fresh.origin}, ${elapsed(started)}): ${target}`);
}

// --- where things are -------------------------------------------------------

function findMediasoup() {
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

function readDistro() {
	const fields = {};

	try {
		for (const line of fs.readFileSync('/etc/os-release', 'utf8').split('\n')) {
			const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());

			if (match) {
				fields[match[1]] = match[2].replace(/^["']|["']$/g, '');
			}
		}
	} catch {
		// Not Linux or no os-release: only the cache and the prebuilt can work.
	}

	const id = fields.ID || os.platform();
	const idLike = `${id} ${fields.ID_LIKE ?? ''}`.split(/\s+/);
	let codename = fields.VERSION_CODENAME ?? '';

	// Debian testing/sid have no VERSION_ID; /etc/debian_version still tells.
	if (id === 'debian' && !codename) {
		codename = debianCodenameFromVersionFile();
	}

	return {
		id,
		versionId: fields.VERSION_ID || codename,
		codename,
		isDebianLike: idLike.includes('debian'),
		pretty: fields.PRETTY_NAME || `${os.platform()} ${os.release()}`
	};
}

function debianCodenameFromVersionFile() {
	try {
		const text = fs.readFileSync('/etc/debian_version', 'utf8').trim();
		const major = Number.parseInt(text, 10);

		if (major === 12) return 'bookworm';
		if (major === 13) return 'trixie';

		return text.split('/')[0]; // e.g. "trixie/sid"
	} catch {
		return '';
	}
}

function cachePath(mediasoupVersion, distro) {
	const cacheDir =
		process.env.VCALL_WORKER_CACHE ||
		path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vcall');

	return path.join(
		cacheDir,
		`mediasoup-worker-${mediasoupVersion}-${distro.id}${distro.versionId}-${process.arch}-${standInsHash()}`
	);
}

/** A change to the stand-in subprojects (e.g. a compat fix) must not reuse an older build. */
function standInsHash() {
	const hash = createHash('sha256');
	const walk = (dir) => {
		for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
			const file = path.join(dir, entry.name);

			if (entry.isDirectory()) walk(file);
			else hash.update(path.relative(STANDINS_DIR, file)).update(fs.readFileSync(file));
		}
	};

	walk(STANDINS_DIR);

	return hash.digest('hex').slice(0, 8);
}

// --- step 1: nothing to do --------------------------------------------------

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

// --- step 2: cache ----------------------------------------------------------

async function installFromCache(cacheFile, target, mediasoup) {
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

	installBinary(cacheFile, target);
	await smokeTest(target, mediasoup);
	log(`mediasoup-worker ${mediasoup.version} installed from cache ${cacheFile}`);

	return true;
}

function storeInCache(bin, cacheFile) {
	try {
		copyAtomically(bin, cacheFile);
		log(`cached at ${cacheFile}`);
	} catch (error) {
		// Not fatal: the next install just has to build again.
		log(`could not write the cache (${error.message}); continuing without it`);
	}
}

// Two installs at once (npm ci in two checkouts, say) would each spend minutes
// building the same binary: the later one waits for the earlier one instead.
async function withInstallLock(cacheFile, fn) {
	const lockDir = `${cacheFile}.lock`;
	let announced = false;

	try {
		fs.mkdirSync(path.dirname(lockDir), { recursive: true });
	} catch (error) {
		log(`cannot create the cache directory (${error.message}); going on without a lock`);
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

function tryLock(lockDir) {
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
			return true;
		} catch (error) {
			if (error.code !== 'EEXIST') {
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

// Stale if its owner is gone. A young lock may not have its pid file yet.
function lockIsStale(lockDir) {
	const owner = lockOwner(lockDir);

	if (owner) {
		return !processAlive(owner);
	}

	const mtime = fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;

	return mtime !== undefined && Date.now() - mtime > 60_000;
}

function lockOwner(lockDir) {
	try {
		return Number.parseInt(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'), 10) || null;
	} catch {
		return null;
	}
}

function processAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return error.code === 'EPERM';
	}
}

function sleep(ms) {
	return new Promise(resolve => setTimeout(resolve, ms));
}

// --- step 3: official prebuilt binary ---------------------------------------

async function getPrebuilt(mediasoup) {
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
		runOrThrow('tar', ['-xzf', tarball, '-C', workDir, 'mediasoup-worker']);

		const bin = path.join(workDir, 'mediasoup-worker');

		fs.chmodSync(bin, 0o755);

		const check = runCheck(bin);

		if (!check.ok) {
			throw new Error(`it does not run on this machine: ${check.detail}`);
		}

		return { bin, origin: 'official prebuilt', cleanup };
	} catch (error) {
		log(`no usable prebuilt binary (${error.message}); building from source`);
		cleanup();
		return null;
	}
}

// Same URL as mediasoup's npm-scripts.mjs (downloadPrebuiltWorker), including
// its MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL override.
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

async function download(url) {
	const controller = new AbortController();
	let timer = setTimeout(() => controller.abort(), PREBUILT_CONNECT_TIMEOUT_MS);

	try {
		const response = await fetch(url, { signal: controller.signal });

		if (!response.ok) {
			throw new Error(`HTTP ${response.status}`);
		}

		// Headers came quickly: allow more time for the body (a few MB).
		clearTimeout(timer);
		timer = setTimeout(() => controller.abort(), PREBUILT_BODY_TIMEOUT_MS);

		return Buffer.from(await response.arrayBuffer());
	} catch (error) {
		if (controller.signal.aborted) {
			throw new Error('download timed out');
		}

		throw new Error(`download failed: ${error.cause?.code ?? error.cause?.message ?? error.message}`);
	} finally {
		clearTimeout(timer);
	}
}

// --- step 4: build from source ----------------------------------------------

async function buildFromSource(mediasoup, distro, cacheDir) {
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
		await runLogged(
			'meson',
			[
				'setup',
				'--wrap-mode=nodownload',
				'--buildtype=release',
				'-Db_ndebug=true',
				// Always our std-container stand-in, even if a real copy is around.
				'--force-fallback-for=unordered_dense',
				outDir,
				srcDir
			],
			logFile
		);

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

// Builds next to the cache rather than in /tmp, which machines may clean
// while a build runs (the compiler's temporary files go there too, see
// runLogged).
function makeBuildRoot(cacheDir) {
	for (const parent of [cacheDir, os.tmpdir()]) {
		try {
			fs.mkdirSync(parent, { recursive: true });

			if (parent === cacheDir) {
				removeOldBuilds(parent);
			}

			return fs.mkdtempSync(path.join(parent, 'vcall-worker-build-'));
		} catch {
			// Not writable: try the next one.
		}
	}

	throw new InstallError(`cannot create a build directory in ${cacheDir} or ${os.tmpdir()}`);
}

// A failed build keeps its directory for debugging until the next build.
// Builds run under the install lock (in the cache directory), so none of
// these is in use.
function removeOldBuilds(parent) {
	for (const name of fs.readdirSync(parent)) {
		if (name.startsWith('vcall-worker-build-')) {
			fs.rmSync(path.join(parent, name), { recursive: true, force: true });
		}
	}
}

// Copies the worker sources (never building inside node_modules) and puts the
// stand-in subprojects where mediasoup's .wrap files say the sources would be.
function prepareSourceTree(workerDir, srcDir) {
	fs.cpSync(workerDir, srcDir, {
		recursive: true,
		filter: src => path.relative(workerDir, src) !== 'out'
	});

	for (const name of fs.readdirSync(STANDINS_DIR)) {
		const wrapFile = path.join(srcDir, 'subprojects', `${name}.wrap`);

		if (!fs.existsSync(wrapFile)) {
			throw new InstallError(
				`mediasoup's worker has no subprojects/${name}.wrap any more`,
				'The stand-ins in scripts/mediasoup-worker/subprojects need updating for this mediasoup version.'
			);
		}

		const directory = /^directory\s*=\s*(\S+)/m.exec(fs.readFileSync(wrapFile, 'utf8'))?.[1] ?? name;
		const dest = path.join(srcDir, 'subprojects', directory);

		fs.rmSync(dest, { recursive: true, force: true });
		fs.cpSync(path.join(STANDINS_DIR, name), dest, { recursive: true });
	}
}

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
	const cpus = os.availableParallelism?.() ?? os.cpus().length;
	const byMemory = Math.floor(os.totalmem() / 1024 ** 3);

	return Math.max(1, Math.min(cpus, byMemory));
}

// --- build dependencies (Debian) --------------------------------------------

function ensureBuildDependencies(distro, logFile) {
	const needs = missingBuildDependencies();

	if (needs.packages.length === 0 && !needs.meson) {
		return;
	}

	const wanted = [...needs.packages, ...(needs.meson ? ['meson'] : [])];

	if (!distro.isDebianLike || !commandExists('dpkg-query')) {
		throw new InstallError(
			`building mediasoup-worker needs ${wanted.join(', ')} (Debian package names), and automatic installation is only done on Debian 12/13 (this is ${distro.pretty})`,
			'Install the equivalents (meson >= 1.1, ninja, pkg-config, a C++20 compiler, libuv, OpenSSL 3, libsrtp 2, flatbuffers with flatc, abseil) and run `node scripts/install-worker.mjs` again.'
		);
	}

	const plan = aptPlan(distro, needs);

	if (process.getuid?.() !== 0) {
		throw new InstallError(
			`mediasoup-worker has to be built from source here, and these Debian packages are missing: ${wanted.join(' ')}`,
			`As root, run:\n\n${plan.map(step => `    ${step.shell}`).join('\n')}\n\nthen run \`npm ci\` (or \`node scripts/install-worker.mjs\`) again.`
		);
	}

	log(`installing Debian packages: ${wanted.join(' ')} (output in the log)`);

	for (const step of plan) {
		log(`  $ ${step.shell}`);
		step.run(logFile);
	}

	const still = missingBuildDependencies();

	if (still.packages.length > 0 || still.meson) {
		throw new InstallError(
			`still missing after apt-get: ${[...still.packages, ...(still.meson ? [`meson >= ${MIN_MESON_VERSION}`] : [])].join(' ')}`,
			`See ${logFile}.`
		);
	}
}

function missingBuildDependencies() {
	const installed = new Set();
	// Unknown package names make dpkg-query exit 1; the rest is still listed.
	const result = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Status}\n', ...BUILD_PACKAGES], {
		encoding: 'utf8'
	});

	for (const line of (result.stdout ?? '').split('\n')) {
		const [name, ...status] = line.split(' ');

		if (status.join(' ') === 'install ok installed') {
			installed.add(name.split(':')[0]);
		}
	}

	return {
		packages: BUILD_PACKAGES.filter(name => !installed.has(name)),
		meson: !mesonIsRecentEnough()
	};
}

// Any meson on PATH will do (Debian's, pip's, ...) if it is recent enough.
function mesonIsRecentEnough() {
	const result = spawnSync('meson', ['--version'], { encoding: 'utf8' });

	return result.status === 0 && compareVersions(result.stdout.trim(), MIN_MESON_VERSION) >= 0;
}

// The apt steps, each as a shell line to show and a function to run.
function aptPlan(distro, needs) {
	const plan = [];
	// Debian 12's own meson (1.0.1) is too old for the worker's meson.build.
	const mesonFromBackports = needs.meson && distro.codename === 'bookworm';

	if (mesonFromBackports && !aptHasSuite('bookworm-backports')) {
		const file = '/etc/apt/sources.list.d/bookworm-backports.list';
		const line = 'deb http://deb.debian.org/debian bookworm-backports main';

		plan.push({
			shell: `echo '${line}' > ${file}`,
			run: () => fs.writeFileSync(file, `${line}\n`)
		});
	}

	plan.push(aptStep(['update']));

	const mainPackages = [...needs.packages, ...(needs.meson && !mesonFromBackports ? ['meson'] : [])];

	if (mainPackages.length > 0) {
		plan.push(aptStep(['install', '-y', '--no-install-recommends', ...mainPackages]));
	}

	if (mesonFromBackports) {
		plan.push(aptStep(['install', '-y', '--no-install-recommends', '-t', 'bookworm-backports', 'meson']));
	}

	return plan;
}

function aptStep(args) {
	return {
		shell: `apt-get ${args.join(' ')}`,
		run: logFile =>
			runSyncLogged(
				'apt-get',
				// Wait for another apt/dpkg run instead of failing at once.
				['-o', 'DPkg::Lock::Timeout=300', ...args],
				logFile,
				{ ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
			)
	};
}

function aptHasSuite(suite) {
	const files = ['/etc/apt/sources.list'];

	try {
		for (const name of fs.readdirSync('/etc/apt/sources.list.d')) {
			if (name.endsWith('.list') || name.endsWith('.sources')) {
				files.push(path.join('/etc/apt/sources.list.d', name));
			}
		}
	} catch {
		// No sources.list.d.
	}

	return files.some(file => {
		try {
			return fs
				.readFileSync(file, 'utf8')
				.split('\n')
				.some(line => !line.trim().startsWith('#') && line.includes(suite));
		} catch {
			return false;
		}
	});
}

// --- checking a binary ------------------------------------------------------

// Quick check: does it start at all on this machine?
function runCheck(bin) {
	const env = { ...process.env };

	delete env.MEDIASOUP_VERSION;

	const result = spawnSync(bin, [], { env, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });

	if (result.status === WORKER_NO_PARENT_EXIT_CODE) {
		return { ok: true };
	}

	const stderr = (result.stderr ?? '').trim().split('\n').slice(0, 2).join(' ');
	const detail = result.error?.code ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`);

	return { ok: false, detail: stderr ? `${detail}: ${stderr}` : detail };
}

// Real check: mediasoup's own Node library starts the worker and talks to it.
async function smokeTest(bin, mediasoup) {
	let worker;

	try {
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
			`mediasoup could not run the worker ${bin}: ${error.message}`,
			'Report this together with the output above.'
		);
	} finally {
		worker?.close();
	}
}

// --- files and processes ----------------------------------------------------

function installBinary(src, target) {
	copyAtomically(src, target);
}

// Copy next to the destination, then rename: nobody ever sees half a binary.
function copyAtomically(src, dest) {
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

// Runs a command with its output appended to logFile; `onLine` sees each line.
function runLogged(command, args, logFile, onLine = () => {}) {
	return new Promise((resolve, reject) => {
		const logStream = fs.createWriteStream(logFile, { flags: 'a' });

		logStream.write(`\n$ ${command} ${args.join(' ')}\n`);

		const tmpDir = path.join(path.dirname(logFile), 'tmp');

		fs.mkdirSync(tmpDir, { recursive: true });

		const child = spawn(command, args, {
			env: { ...process.env, TMPDIR: tmpDir },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let pending = '';

		const onData = chunk => {
			logStream.write(chunk);
			pending += chunk.toString();

			const lines = pending.split('\n');

			pending = lines.pop();
			lines.forEach(onLine);
		};

		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.on('error', error => logStream.end(() => reject(commandError(command, error))));
		child.on('close', code =>
			logStream.end(() =>
				code === 0
					? resolve()
					: reject(new InstallError(`\`${command} ${args[0]}\` failed (exit code ${code})`, `See ${logFile}.`))
			)
		);
	});
}

function runSyncLogged(command, args, logFile, env = process.env) {
	fs.appendFileSync(logFile, `\n$ ${command} ${args.join(' ')}\n`);

	const fd = fs.openSync(logFile, 'a');

	try {
		const result = spawnSync(command, args, { env, stdio: ['ignore', fd, fd] });

		if (result.error) {
			throw commandError(command, result.error);
		}

		if (result.status !== 0) {
			throw new InstallError(`\`${command} ${args.join(' ')}\` failed (exit code ${result.status})`, `See ${logFile}.`);
		}
	} finally {
		fs.closeSync(fd);
	}
}

function runOrThrow(command, args) {
	const result = spawnSync(command, args, { encoding: 'utf8' });

	if (result.error || result.status !== 0) {
		throw new Error(`${command} failed: ${result.error?.message ?? result.stderr.trim()}`);
	}
}

function commandError(command, error) {
	return error.code === 'ENOENT'
		? new InstallError(`\`${command}\` is not installed`)
		: new InstallError(`could not run \`${command}\`: ${error.message}`);
}

function commandExists(command) {
	return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function withTimeout(promise, ms) {
	let timer;

	return Promise.race([
		promise,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
		})
	]).finally(() => clearTimeout(timer));
}

// --- output -----------------------------------------------------------------

function log(message) {
	console.log(`[install-worker] ${message}`);
}

function printLogTail(logFile, lines = 40) {
	try {
		const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines);

		console.error(`[install-worker] last lines of ${logFile}:\n${tail.join('\n')}\n`);
	} catch {
		// No log yet.
	}
}

function fail(error) {
	const advice =
		error instanceof InstallError
			? error.advice
			: `Unexpected error; stack: ${error.stack}`;

	console.error(
		`\n[install-worker] ERROR: could not provide the mediasoup-worker binary: ${error.message}. ${advice}` +
			`${advice ? ' ' : ''}Alternatively point MEDIASOUP_WORKER_BIN to a working mediasoup-worker ` +
			'binary (mediasoup then uses it), or set VCALL_SKIP_WORKER=1 to install without a worker.\n'
	);
	process.exit(1);
}

function elapsed(since) {
	const seconds = Math.round((Date.now() - since) / 1000);

	return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

function compareVersions(a, b) {
	const pa = a.split('.').map(n => Number.parseInt(n, 10) || 0);
	const pb = b.split('.').map(n => Number.parseInt(n, 10) || 0);

	for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
		const diff = (pa[i] ?? 0) - (pb[i] ?? 0);

		if (diff !== 0) {
			return diff;
		}
	}

	return 0;
}
