#!/usr/bin/env node
// The command: read the configuration, start the server, stop gracefully on
// SIGTERM/SIGINT within SHUTDOWN_TIMEOUT, reload TLS on SIGHUP, drain on SIGUSR2.
// `vcall token ...` prints a join token instead.

import { ConfigError, loadConfig } from '../lib/config/load.js';
import { log } from '../lib/log.js';
import { Server } from './Server.js';
import { tokenCommand } from './token.js';

async function main(): Promise<void> {
	if (process.argv[2] === 'token') {
		try {
			process.stdout.write(`${await tokenCommand(process.argv.slice(3))}\n`);
			process.exit(0);
		} catch (error) {
			process.stderr.write(`vcall token: ${(error as Error).message}\n`);
			process.exit(2);
		}
	}

	let config;

	try {
		config = loadConfig({ argv: process.argv.slice(2) });
	} catch (error) {
		if (error instanceof ConfigError) {
			process.stderr.write(`vcall: configuration error: ${error.message}\n`);
			process.exit(2);
		}
		throw error;
	}

	// Registered before any worker exists, so this runs before mediasoup's own
	// signal handlers close the workers: peers hear 'shutdown', not 'workerDied'.
	let server: Server | undefined;
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		setTimeout(() => {
			log.error(`shutdown took longer than ${config.shutdownTimeout}s; exiting`);
			process.exit(1);
		}, config.shutdownTimeout * 1000).unref();
		log.info(`${signal} received`);
		if (server) void server.shutdown('shutdown');
		else process.exit(0);
	};

	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
	// systemctl reload: pick up a renewed certificate without dropping calls.
	process.on('SIGHUP', () => {
		server?.reloadTls().catch((error: Error) => log.warn(`TLS reload failed: ${error.message}`));
	});
	// Drain for a deploy; main() exits 0 once the last call has ended.
	process.on('SIGUSR2', () => {
		log.info('SIGUSR2 received');
		void server?.drain();
	});

	try {
		server = await Server.start(config);
	} catch (error) {
		log.error(`cannot start: ${(error as Error).message}`);
		process.exit(1);
	}
	if (stopping) void server.shutdown('shutdown');
	// Shutdown, drain (SIGUSR2 or POST /admin/drain): exit once closed.
	await server.done;
	process.exit(0);
}

void main();
