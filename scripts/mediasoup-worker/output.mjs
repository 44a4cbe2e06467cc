// @ts-check
// What the installer prints, and the error it stops with.

import * as fs from 'node:fs';

const PREFIX = '[install-worker]';
const LOG_TAIL_LINES = 40;

/** A failure the user can act on; `advice` says what to do about it. */
export class InstallError extends Error {
	/**
	 * @param {string} message
	 * @param {string} [advice]
	 */
	constructor(message, advice = '') {
		super(message);
		this.name = 'InstallError';
		this.advice = advice;
	}
}

/** @param {string} message */
export function log(message) {
	console.log(`${PREFIX} ${message}`);
}

/** @param {string} logFile */
export function printLogTail(logFile) {
	try {
		const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES);

		console.error(`${PREFIX} last lines of ${logFile}:\n${tail.join('\n')}\n`);
	} catch {
		// No log yet.
	}
}

/**
 * The one paragraph printed when the install fails.
 *
 * @param {unknown} error
 * @returns {string}
 */
export function failureMessage(error) {
	const advice =
		error instanceof InstallError
			? error.advice
			: `Unexpected error; stack: ${error instanceof Error ? error.stack : String(error)}`;
	const message = error instanceof Error ? error.message : String(error);

	return (
		`\n${PREFIX} ERROR: could not provide the mediasoup-worker binary: ${message}. ${advice}` +
		`${advice ? ' ' : ''}Alternatively point MEDIASOUP_WORKER_BIN to a working mediasoup-worker ` +
		'binary (mediasoup then uses it), or set VCALL_SKIP_WORKER=1 to install without a worker.\n'
	);
}

/**
 * @param {number} since a Date.now() value
 * @returns {string} e.g. "42s" or "3m45s"
 */
export function elapsed(since) {
	const seconds = Math.round((Date.now() - since) / 1000);

	return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}
