#!/usr/bin/env node
// The command: read the configuration, start the server, stop gracefully on
// SIGTERM/SIGINT within SHUTDOWN_TIMEOUT.

import { ConfigError, loadConfig } from '../lib/config/load.js';
import { log } from '../lib/log.js';
import { Server } from './Server.js';

async function main(): Promise<void> {
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
		void (server?.shutdown('shutdown') ?? Promise.resolve()).then(() => process.exit(0));
	};

	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));

	try {
		server = await Server.start(config);
	} catch (error) {
		log.error(`cannot start: ${(error as Error).message}`);
		process.exit(1);
	}
	if (stopping) await server.shutdown('shutdown').then(() => process.exit(0));
}

void main();
