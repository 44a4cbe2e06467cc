// @ts-check
// The stand-in meson subprojects in ./subprojects (see README.md): their
// hash for the cache key, and putting them into a copy of the worker source.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InstallError } from './output.mjs';

export const STANDINS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'subprojects');

/**
 * A change to the stand-ins (e.g. a compat fix) must not reuse an older
 * build: this hash of their paths and contents goes into the cache key.
 *
 * @param {string} [dir]
 * @returns {string} 8 hex digits
 */
export function standInsHash(dir = STANDINS_DIR) {
	const hash = createHash('sha256');
	/** @param {string} subdir */
	const walk = subdir => {
		for (const entry of fs.readdirSync(subdir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
			const file = path.join(subdir, entry.name);

			if (entry.isDirectory()) walk(file);
			else hash.update(path.relative(dir, file)).update(fs.readFileSync(file));
		}
	};

	walk(dir);

	return hash.digest('hex').slice(0, 8);
}

/**
 * Puts each stand-in where the worker's subprojects/<name>.wrap says the
 * downloaded sources would be (its `directory =` line).
 *
 * @param {string} srcDir a copy of mediasoup's worker/ directory
 */
export function placeStandIns(srcDir) {
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
