// @ts-check
// The Debian packages a build needs: which are missing, and the apt-get steps
// that install them (run as root, or printed for the user to run).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InstallError, log } from './output.mjs';
import { commandExists, runSyncLogged } from './run.mjs';

/** @typedef {import('./distro.mjs').Distro} Distro */
/**
 * @typedef {object} MissingDependencies
 * @property {string[]} packages Debian package names, meson excluded
 * @property {boolean} meson no meson >= MIN_MESON_VERSION on PATH
 */
/**
 * One apt step: a shell line to show, and the same as a function.
 *
 * @typedef {object} AptStep
 * @property {string} shell
 * @property {(logFile: string) => void} run
 */

// The worker's meson.build says `meson_version: '>= 1.1.0'`.
const MIN_MESON_VERSION = '1.1.0';

// Needed to build the worker. meson is handled apart: on Debian 12 it has to
// come from bookworm-backports.
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

const BACKPORTS_SUITE = 'bookworm-backports';

/**
 * Installs what is missing when run as root on Debian; otherwise throws with
 * the commands to run.
 *
 * @param {Distro} distro
 * @param {string} logFile
 */
export function ensureBuildDependencies(distro, logFile) {
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

	const plan = aptPlan(distro, needs, aptHasSuite(BACKPORTS_SUITE));

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

/** @returns {MissingDependencies} */
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

/**
 * The apt steps that install what is missing.
 *
 * @param {Distro} distro
 * @param {MissingDependencies} needs
 * @param {boolean} hasBackports whether apt's sources already list bookworm-backports
 * @returns {AptStep[]}
 */
export function aptPlan(distro, needs, hasBackports) {
	/** @type {AptStep[]} */
	const plan = [];
	// Debian 12's own meson (1.0.1) is too old for the worker's meson.build.
	const mesonFromBackports = needs.meson && distro.codename === 'bookworm';

	if (mesonFromBackports && !hasBackports) {
		const file = `/etc/apt/sources.list.d/${BACKPORTS_SUITE}.list`;
		const line = `deb http://deb.debian.org/debian ${BACKPORTS_SUITE} main`;

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
		plan.push(aptStep(['install', '-y', '--no-install-recommends', '-t', BACKPORTS_SUITE, 'meson']));
	}

	return plan;
}

/**
 * @param {string[]} args
 * @returns {AptStep}
 */
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

/** @param {string} suite */
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

/**
 * Compares dotted version numbers ("1.7.0" > "1.1.0").
 *
 * @param {string} a
 * @param {string} b
 * @returns {number} negative, 0 or positive
 */
export function compareVersions(a, b) {
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
