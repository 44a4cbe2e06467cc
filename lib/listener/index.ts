// Picks the listener: uWebSockets.js where its binary loads, node:http + ws
// elsewhere (its binaries need glibc >= 2.38; Debian 12 has 2.36).

import { createRequire } from 'node:module';
import debugFactory from 'debug';
import { NodeListener } from './NodeListener.js';
import { UwsListener, type UwsModule } from './UwsListener.js';
import type { Listener, ListenerOptions } from './types.js';

const debug = debugFactory('vcall:listener');

let uwsModule: Promise<UwsModule> | undefined;

/**
 * Loads uWebSockets.js once. It goes through require() (the package's CJS
 * entry), not import(): on Node 20 the package's ESM wrapper turns a failed
 * native load into a second, unhandled rejection that kills the process even
 * though the import() itself is caught.
 */
function loadUws(): Promise<UwsModule> {
	uwsModule ??= new Promise<UwsModule>((resolve) => {
		const require = createRequire(import.meta.url);

		resolve(require('uWebSockets.js') as UwsModule);
	});

	return uwsModule;
}

/**
 * The useful line of a loader error. uWS wraps the dlopen error as
 * "This version of uWS.js ... supports only ...\n\nError: <dlopen message>".
 */
function describeLoadError(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	const parts = message.split('\n\n');
	const inner = parts.length > 1 ? parts.slice(1).join('\n\n') : message;
	let line = (inner.split('\n').find((l) => l.trim().length > 0) ?? message).trim();

	line = line.replace(/^Error: /, '').replace(/`/g, "'");

	const glibc = /GLIBC_(\d+\.\d+)'? not found/.exec(line);

	// "(required by /path/to/uws_linux_x64_115.node)" says less than what is missing.
	if (glibc) line = line.replace(/\s*\(required by [^)]*\)/, '') + ` (needs glibc >= ${glibc[1]})`;

	return line;
}

/** Why uWebSockets.js cannot be used here, or undefined when it loads. */
export async function uwsLoadError(): Promise<string | undefined> {
	try {
		await loadUws();

		return undefined;
	} catch (error) {
		return describeLoadError(error);
	}
}

/**
 * Creates the listener for a configured choice. 'auto' prefers uWS and falls
 * back to node; the returned reason is one line for logs and /health.
 */
export async function createListener(
	choice: 'auto' | 'uws' | 'node',
	opts: ListenerOptions
): Promise<{ listener: Listener; reason: string }> {
	let result: { listener: Listener; reason: string };

	switch (choice) {
		case 'node': {
			result = { listener: new NodeListener(opts), reason: 'node:http + ws (configured)' };
			break;
		}

		case 'uws': {
			let uws: UwsModule;

			try {
				uws = await loadUws();
			} catch (error) {
				throw new Error(`uWebSockets.js is configured but failed to load: ${describeLoadError(error)}`, {
					cause: error
				});
			}

			result = { listener: new UwsListener(uws, opts), reason: 'uWebSockets.js (configured)' };
			break;
		}

		case 'auto': {
			try {
				result = { listener: new UwsListener(await loadUws(), opts), reason: 'uWebSockets.js' };
			} catch (error) {
				result = {
					listener: new NodeListener(opts),
					reason: `uWebSockets.js failed to load: ${describeLoadError(error)}; using node:http + ws`
				};
			}
			break;
		}

		default: {
			throw new Error(`unknown listener choice ${JSON.stringify(choice satisfies never)}`);
		}
	}

	debug('listener %s: %s', result.listener.kind, result.reason);

	return result;
}
