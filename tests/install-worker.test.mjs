// @ts-check
// The worker installer's pieces (scripts/mediasoup-worker), with the real
// worker binary, the real mediasoup package and, where meson is installed, a
// real `meson setup` of the worker source; nothing is compiled. Plain ESM
// (type-checked by scripts/tsconfig.json) because the modules under test are.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { aptPlan, compareVersions } from '../scripts/mediasoup-worker/apt.mjs';
import { mesonSetupArgs, prepareSourceTree } from '../scripts/mediasoup-worker/build.mjs';
import { cacheDir, cachePath, installFromCache } from '../scripts/mediasoup-worker/cache.mjs';
import { runCheck } from '../scripts/mediasoup-worker/check.mjs';
import { parseDistro } from '../scripts/mediasoup-worker/distro.mjs';
import { withInstallLock } from '../scripts/mediasoup-worker/lock.mjs';
import { failureMessage, InstallError } from '../scripts/mediasoup-worker/output.mjs';
import { defaultWorkerPath, findMediasoup } from '../scripts/mediasoup-worker/package.mjs';
import { getPrebuilt } from '../scripts/mediasoup-worker/prebuilt.mjs';
import { runLogged } from '../scripts/mediasoup-worker/run.mjs';
import { placeStandIns, STANDINS_DIR, standInsHash } from '../scripts/mediasoup-worker/standins.mjs';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'install-worker.mjs');
const mediasoup = findMediasoup();
const installedWorker = defaultWorkerPath(mediasoup);

const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const DEBIAN_13 = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n';
const UBUNTU_24 = 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n';
const noDebianVersion = () => {
	throw new Error('/etc/debian_version read although os-release had a codename');
};

/** @param {import('ava').ExecutionContext} t */
function tempDir(t) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcall-install-worker-test-'));

	t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

	return dir;
}

/**
 * Sets environment variables for the rest of a (serial) test.
 *
 * @param {import('ava').ExecutionContext} t
 * @param {Record<string, string>} vars
 */
function setEnv(t, vars) {
	for (const [name, value] of Object.entries(vars)) {
		const before = process.env[name];

		process.env[name] = value;
		t.teardown(() => {
			if (before === undefined) delete process.env[name];
			else process.env[name] = before;
		});
	}
}

/**
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 */
function runEntry(args, env) {
	return spawnSync(process.execPath, [ENTRY, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

test('the distro part of the cache key comes from os-release, or /etc/debian_version on Debian testing', (t) => {
	t.like(parseDistro(DEBIAN_12, noDebianVersion), {
		id: 'debian',
		versionId: '12',
		codename: 'bookworm',
		isDebianLike: true,
		pretty: 'Debian GNU/Linux 12 (bookworm)'
	});
	t.like(parseDistro(UBUNTU_24, noDebianVersion), { id: 'ubuntu', versionId: '24.04', isDebianLike: true });
	t.like(parseDistro('ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n', () => 'trixie/sid\n'), {
		versionId: 'trixie',
		codename: 'trixie'
	});
	t.like(parseDistro('ID=debian\n', () => '13.1\n'), { versionId: 'trixie', codename: 'trixie' });
	t.like(parseDistro('ID=fedora\nVERSION_ID=41\n', noDebianVersion), { id: 'fedora', isDebianLike: false });
	t.like(parseDistro('', noDebianVersion), { id: os.platform(), versionId: '', isDebianLike: false });
});

test.serial('the cache directory: VCALL_WORKER_CACHE, else $XDG_CACHE_HOME/vcall, else ~/.cache/vcall', (t) => {
	t.is(cacheDir({ VCALL_WORKER_CACHE: '/srv/c', XDG_CACHE_HOME: '/x' }), '/srv/c');
	t.is(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/vcall');
	t.is(cacheDir({}), path.join(os.homedir(), '.cache', 'vcall'));

	setEnv(t, { VCALL_WORKER_CACHE: '/srv/c' });

	const key = path.basename(cachePath('3.27.1', parseDistro(DEBIAN_12, noDebianVersion)));

	t.is(path.dirname(cachePath('3.27.1', parseDistro(DEBIAN_12, noDebianVersion))), '/srv/c');
	t.is(key, `mediasoup-worker-3.27.1-debian12-${process.arch}-${standInsHash()}`);
	t.regex(standInsHash(), /^[0-9a-f]{8}$/);
	t.not(cachePath('3.27.1', parseDistro(DEBIAN_13, noDebianVersion)), cachePath('3.27.1', parseDistro(DEBIAN_12, noDebianVersion)));
});

test('a change to a stand-in file, or its name, changes the cache key; a copy does not', (t) => {
	const copy = path.join(tempDir(t), 'subprojects');

	fs.cpSync(STANDINS_DIR, copy, { recursive: true });
	t.is(standInsHash(copy), standInsHash());

	const file = path.join(copy, 'libsrtp3', 'srtp3_compat.c');

	fs.appendFileSync(file, '\n');
	t.not(standInsHash(copy), standInsHash());

	fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, -1));
	t.is(standInsHash(copy), standInsHash());

	fs.renameSync(file, path.join(copy, 'libsrtp3', 'srtp3_compat2.c'));
	t.not(standInsHash(copy), standInsHash());
});

test('apt steps: meson from bookworm-backports on Debian 12 (adding the suite if needed), from the main suite elsewhere', (t) => {
	const debian12 = parseDistro(DEBIAN_12, noDebianVersion);
	const shells = (/** @type {import('../scripts/mediasoup-worker/apt.mjs').AptStep[]} */ plan) => plan.map(step => step.shell);

	t.deepEqual(shells(aptPlan(debian12, { packages: ['libuv1-dev', 'g++'], meson: true }, false)), [
		"echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list",
		'apt-get update',
		'apt-get install -y --no-install-recommends libuv1-dev g++',
		'apt-get install -y --no-install-recommends -t bookworm-backports meson'
	]);
	t.deepEqual(shells(aptPlan(debian12, { packages: [], meson: true }, true)), [
		'apt-get update',
		'apt-get install -y --no-install-recommends -t bookworm-backports meson'
	]);
	t.deepEqual(shells(aptPlan(debian12, { packages: ['libssl-dev'], meson: false }, false)), [
		'apt-get update',
		'apt-get install -y --no-install-recommends libssl-dev'
	]);
	t.deepEqual(shells(aptPlan(parseDistro(DEBIAN_13, noDebianVersion), { packages: ['ninja-build'], meson: true }, false)), [
		'apt-get update',
		'apt-get install -y --no-install-recommends ninja-build meson'
	]);
});

test('meson versions compare by number', (t) => {
	t.true(compareVersions('1.7.0', '1.1.0') > 0);
	t.true(compareVersions('1.0.1', '1.1.0') < 0);
	t.true(compareVersions('1.10.0', '1.9.2') > 0);
	t.is(compareVersions('1.1', '1.1.0'), 0);
});

test('the source tree gets each stand-in where its .wrap points, without out/, and meson configures it', async (t) => {
	const dir = tempDir(t);
	const workerDir = path.join(mediasoup.dir, 'worker');
	const srcDir = path.join(dir, 'worker');

	t.true(fs.existsSync(path.join(workerDir, 'out')), 'the installed worker is under out/, which must not be copied');
	prepareSourceTree(workerDir, srcDir);
	t.false(fs.existsSync(path.join(srcDir, 'out')));
	t.true(fs.existsSync(path.join(srcDir, 'meson.build')));

	for (const name of fs.readdirSync(STANDINS_DIR)) {
		const wrap = fs.readFileSync(path.join(srcDir, 'subprojects', `${name}.wrap`), 'utf8');
		const directory = /^directory\s*=\s*(\S+)/m.exec(wrap)?.[1];

		t.truthy(directory, `${name}.wrap has a directory line`);
		t.is(
			fs.readFileSync(path.join(srcDir, 'subprojects', String(directory), 'meson.build'), 'utf8'),
			fs.readFileSync(path.join(STANDINS_DIR, name, 'meson.build'), 'utf8'),
			name
		);
	}

	if (spawnSync('meson', ['--version']).status !== 0) {
		t.log('meson is not installed: the configure step is not checked');
		return;
	}

	const logFile = path.join(dir, 'build.log');

	await runLogged('meson', mesonSetupArgs(path.join(dir, 'build'), srcDir), logFile);
	t.true(fs.existsSync(path.join(dir, 'build', 'build.ninja')));
	t.regex(fs.readFileSync(logFile, 'utf8'), /Subproject libsrtp3 finished/);
});

test('a stand-in whose .wrap mediasoup no longer ships stops with advice', (t) => {
	const srcDir = tempDir(t);

	fs.mkdirSync(path.join(srcDir, 'subprojects'));

	const error = t.throws(() => placeStandIns(srcDir), { instanceOf: InstallError });

	t.regex(error?.message ?? '', /has no subprojects\/\S+\.wrap any more/);
	t.regex(/** @type {InstallError} */ (error).advice, /stand-ins in scripts\/mediasoup-worker\/subprojects need updating/);
});

test('the cache: a working binary is installed and passes mediasoup\'s own start, a broken one is discarded', async (t) => {
	const dir = tempDir(t);
	const cacheFile = path.join(dir, 'cache', 'mediasoup-worker-test');
	const target = path.join(dir, 'target', 'mediasoup-worker');

	t.false(await installFromCache(cacheFile, target, mediasoup));

	fs.mkdirSync(path.dirname(cacheFile));
	fs.copyFileSync(installedWorker, cacheFile);
	t.true(await installFromCache(cacheFile, target, mediasoup));
	t.deepEqual(runCheck(target), { ok: true });
	t.deepEqual(fs.readFileSync(target), fs.readFileSync(installedWorker));

	fs.writeFileSync(cacheFile, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
	t.like(runCheck(cacheFile), { ok: false, detail: 'exit code 3' });
	t.false(await installFromCache(cacheFile, target, mediasoup));
	t.false(fs.existsSync(cacheFile));
});

test('the lock: a live holder is waited for, a dead one is taken over, and it is released after a failure', async (t) => {
	t.timeout(30_000);

	const cacheFile = path.join(tempDir(t), 'mediasoup-worker-test');
	const lockDir = `${cacheFile}.lock`;
	const holder = spawn('sleep', ['60'], { stdio: 'ignore' });

	t.teardown(() => holder.kill());
	fs.mkdirSync(lockDir);
	fs.writeFileSync(path.join(lockDir, 'pid'), String(holder.pid));

	let ran = false;
	const waiting = withInstallLock(cacheFile, async () => {
		ran = true;
		t.is(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'), String(process.pid));
	});

	// The lock is tried synchronously: had it been taken, fn would have run.
	t.false(ran);
	holder.kill();
	await waiting;
	t.true(ran);
	t.false(fs.existsSync(lockDir));

	// A pid that is gone: the lock is removed at once.
	const gone = spawnSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' });

	fs.mkdirSync(lockDir);
	fs.writeFileSync(path.join(lockDir, 'pid'), gone.stdout.trim());
	await t.throwsAsync(withInstallLock(cacheFile, async () => {
		throw new Error('build failed');
	}), { message: 'build failed' });
	t.false(fs.existsSync(lockDir));

	// No pid file and old: left by an install killed at the wrong moment.
	fs.mkdirSync(lockDir);
	fs.utimesSync(lockDir, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
	t.is(await withInstallLock(cacheFile, async () => 'done'), 'done');
});

test.serial('the prebuilt binary comes from MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL, is checked, and a 404 falls through', async (t) => {
	const dir = tempDir(t);
	const tarball = path.join(dir, 'worker.tgz');
	/** @type {string[]} */
	const requested = [];

	fs.mkdirSync(path.join(dir, 'pack'));
	fs.copyFileSync(installedWorker, path.join(dir, 'pack', 'mediasoup-worker'));
	t.is(spawnSync('tar', ['-czf', tarball, '-C', path.join(dir, 'pack'), 'mediasoup-worker']).status, 0);

	const server = http.createServer((request, response) => {
		requested.push(String(request.url));

		if (request.url?.startsWith('/good/')) response.end(fs.readFileSync(tarball));
		else response.writeHead(404).end();
	});

	await new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	t.teardown(() => server.close());

	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	const kernel = os.release().split('.')[0];

	setEnv(t, { MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: `http://127.0.0.1:${port}/good` });

	const fresh = await getPrebuilt(mediasoup);

	t.truthy(fresh);
	t.is(fresh?.origin, 'official prebuilt');
	t.deepEqual(runCheck(String(fresh?.bin)), { ok: true });
	t.deepEqual(requested, [`/good/${mediasoup.version}/mediasoup-worker-${mediasoup.version}-linux-${os.arch()}-kernel${kernel}.tgz`]);
	fresh?.cleanup();
	t.false(fs.existsSync(String(fresh?.bin)));

	setEnv(t, { MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: `http://127.0.0.1:${port}/missing` });
	t.is(await getPrebuilt(mediasoup), null);

	setEnv(t, { VCALL_SKIP_PREBUILT: '1' });
	t.is(await getPrebuilt(mediasoup), null);
	t.is(requested.length, 2);
});

test('the entry point: VCALL_SKIP_WORKER first, then MEDIASOUP_WORKER_BIN, then the binary already in place', (t) => {
	const skipped = runEntry([], { VCALL_SKIP_WORKER: '1', MEDIASOUP_WORKER_BIN: installedWorker });

	t.is(skipped.status, 0);
	t.is(skipped.stdout, '[install-worker] VCALL_SKIP_WORKER=1: not installing mediasoup-worker\n');

	const fromEnv = runEntry([], { MEDIASOUP_WORKER_BIN: installedWorker });

	t.is(fromEnv.status, 0);
	t.is(fromEnv.stdout, `[install-worker] MEDIASOUP_WORKER_BIN=${installedWorker} exists; mediasoup will use it, nothing to do\n`);

	const inPlace = runEntry([], { MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' });

	t.is(inPlace.status, 0);
	t.is(
		inPlace.stdout,
		'[install-worker] MEDIASOUP_WORKER_BIN=/nonexistent/mediasoup-worker does not exist; installing the default binary anyway\n' +
			`[install-worker] mediasoup-worker already in place: ${installedWorker}\n`
	);
});

test('the failure paragraph carries the advice, or the stack of an unexpected error', (t) => {
	const known = failureMessage(new InstallError('`meson setup` failed (exit code 1)', 'See /x/build.log.'));

	t.is(
		known,
		'\n[install-worker] ERROR: could not provide the mediasoup-worker binary: `meson setup` failed (exit code 1). See /x/build.log. ' +
			'Alternatively point MEDIASOUP_WORKER_BIN to a working mediasoup-worker binary (mediasoup then uses it), ' +
			'or set VCALL_SKIP_WORKER=1 to install without a worker.\n'
	);
	t.regex(failureMessage(new TypeError('x is undefined')), /x is undefined\. Unexpected error; stack: TypeError: x is undefined\n {4}at /);
});
