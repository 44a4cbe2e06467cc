// @ts-check
// Running the commands of a build (meson, ninja, apt-get) with their output
// in the build log.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InstallError } from './output.mjs';

/**
 * Runs a command with its output appended to logFile; `onLine` sees each
 * line. The command's temporary files go next to the log (see makeBuildRoot
 * in build.mjs for why not /tmp).
 *
 * @param {string} command
 * @param {string[]} args
 * @param {string} logFile
 * @param {(line: string) => void} [onLine]
 * @returns {Promise<void>}
 */
export function runLogged(command, args, logFile, onLine = () => {}) {
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

		/** @param {Buffer} chunk */
		const onData = chunk => {
			logStream.write(chunk);
			pending += chunk.toString();

			const lines = pending.split('\n');

			pending = lines.pop() ?? '';
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

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} logFile
 * @param {NodeJS.ProcessEnv} env
 */
export function runSyncLogged(command, args, logFile, env) {
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

/** @param {string} command */
export function commandExists(command) {
	return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * @param {string} command
 * @param {NodeJS.ErrnoException} error
 */
function commandError(command, error) {
	return error.code === 'ENOENT'
		? new InstallError(`\`${command}\` is not installed`)
		: new InstallError(`could not run \`${command}\`: ${error.message}`);
}
