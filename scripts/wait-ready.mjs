#!/usr/bin/env node
// Waits until the server answers GET /health with 200, or fails after a
// bounded time. systemd runs it as ExecStartPost= so that the unit counts as
// started only when the server really serves (Node cannot sd_notify).
//
// Usage: wait-ready.mjs [--timeout SECONDS] [--url URL] [--pid PID]
// Without --url: http://HOST:PORT/health from the environment (the unit's
// EnvironmentFile), with loopback for a wildcard HOST. --pid (the unit passes
// $MAINPID): stop waiting as soon as that process is gone, since systemd lets
// this waiter run on after the server died. Exit 0 when ready, 1 on timeout or
// when the server exited, 2 on bad arguments. No dependency beyond node.

import http from 'node:http';
import { parseArgs } from 'node:util';

const POLL_MS = 250;
const REQUEST_TIMEOUT_MS = 2000;

function healthUrl(env) {
	const port = env.PORT || '3000';
	let host = env.HOST || '0.0.0.0';

	if (host === '0.0.0.0') host = '127.0.0.1';
	else if (host === '::' || host === '[::]') host = '::1';
	if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;

	return `http://${host}:${port}/health`;
}

// Any failure, even an invalid URL from a bad PORT, is just "not ready": the
// server itself rejects a bad configuration (exit 2), and systemd then stops
// this waiter, so the unit fails with the server's own error.
function probe(url) {
	return new Promise((resolve) => {
		try {
			const req = http.get(url, { timeout: REQUEST_TIMEOUT_MS }, (res) => {
				res.resume();
				resolve(`HTTP ${res.statusCode}`);
			});

			req.on('timeout', () => req.destroy(new Error('request timed out')));
			req.on('error', (error) => resolve(error.code ?? error.message));
		} catch (error) {
			resolve(error.code ?? error.message);
		}
	});
}

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return error.code === 'EPERM';
	}
}

async function main() {
	let args;

	try {
		args = parseArgs({ options: { timeout: { type: 'string', default: '60' }, url: { type: 'string' }, pid: { type: 'string' } } }).values;
	} catch (error) {
		process.stderr.write(`wait-ready: ${error.message}\n`);
		return 2;
	}

	const timeout = Number(args.timeout);

	if (!(timeout > 0)) {
		process.stderr.write(`wait-ready: --timeout must be a positive number of seconds\n`);
		return 2;
	}
	if (!args.url && process.env.PORT === '0') {
		// A random port cannot be probed from outside; do not block the start.
		process.stderr.write('wait-ready: PORT=0, nothing to probe; assuming ready\n');
		return 0;
	}

	const url = args.url ?? healthUrl(process.env);
	const pid = Number(args.pid) || 0;
	const deadline = Date.now() + timeout * 1000;
	let last = 'no answer';

	while (Date.now() < deadline) {
		if (pid && !alive(pid)) {
			process.stderr.write(`wait-ready: the server (pid ${pid}) exited before ${url} answered\n`);
			return 1;
		}
		last = await probe(url);
		if (last === 'HTTP 200') {
			process.stdout.write(`wait-ready: ${url} is ready\n`);
			return 0;
		}
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}

	process.stderr.write(`wait-ready: ${url} not ready after ${timeout}s (last: ${last})\n`);
	return 1;
}

process.exitCode = await main();
