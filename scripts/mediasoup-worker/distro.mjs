// @ts-check
// Which distribution this is: part of the cache key, and what decides how the
// build dependencies are installed.

import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * @typedef {object} Distro
 * @property {string} id e.g. "debian" (os-release ID, else the platform)
 * @property {string} versionId e.g. "12" (VERSION_ID, else the codename)
 * @property {string} codename e.g. "bookworm"
 * @property {boolean} isDebianLike
 * @property {string} pretty for messages
 */

/** @returns {Distro} */
export function readDistro() {
	return parseDistro(readOptional('/etc/os-release'), () => readOptional('/etc/debian_version'));
}

/**
 * @param {string} osRelease the text of /etc/os-release ('' if there is none:
 *   not Linux, so only the cache and the prebuilt can work)
 * @param {() => string} debianVersion the text of /etc/debian_version
 * @returns {Distro}
 */
export function parseDistro(osRelease, debianVersion) {
	/** @type {Record<string, string>} */
	const fields = {};

	for (const line of osRelease.split('\n')) {
		const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());

		if (match) {
			fields[match[1]] = match[2].replace(/^["']|["']$/g, '');
		}
	}

	const id = fields.ID || os.platform();
	const idLike = `${id} ${fields.ID_LIKE ?? ''}`.split(/\s+/);
	let codename = fields.VERSION_CODENAME ?? '';

	// Debian testing/sid have no VERSION_ID; /etc/debian_version still tells.
	if (id === 'debian' && !codename) {
		codename = debianCodename(debianVersion());
	}

	return {
		id,
		versionId: fields.VERSION_ID || codename,
		codename,
		isDebianLike: idLike.includes('debian'),
		pretty: fields.PRETTY_NAME || `${os.platform()} ${os.release()}`
	};
}

/** @param {string} debianVersion e.g. "12.11" or "trixie/sid" */
function debianCodename(debianVersion) {
	const text = debianVersion.trim();
	const major = Number.parseInt(text, 10);

	if (major === 12) return 'bookworm';
	if (major === 13) return 'trixie';

	return text.split('/')[0];
}

/** @param {string} file */
function readOptional(file) {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}
