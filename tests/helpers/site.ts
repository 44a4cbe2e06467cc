// The browser client, bundled by scripts/build-client.mjs into a temporary
// directory and served from a static HTTP server (no playwright here: the
// network lab serves it from a child process inside a namespace).

import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { staticFiles } from '../../lib/http/static-files.js';
import { ROOT } from './paths.js';

const execFileAsync = promisify(execFile);

/** Bundles lib/client into a fresh temporary directory (so parallel test files never share one). */
export async function buildClient(): Promise<string> {
	const outdir = await mkdtemp(path.join(os.tmpdir(), 'vcall-client-'));

	await execFileAsync(process.execPath, [path.join(ROOT, 'scripts/build-client.mjs'), '--outdir', outdir], { cwd: ROOT });

	return outdir;
}

export interface StaticServer {
	origin: string;
	close(): Promise<void>;
}

/**
 * The client's files, never cached (every test file builds its own bundle),
 * with the page's CSP; the tests' servers listen on ephemeral ports of
 * addresses they choose, so the page may open WebSockets to any of them.
 */
export function staticHandler(dir: string, connectSources: readonly string[] = ['ws:', 'wss:']): http.RequestListener {
	return staticFiles(dir, { cacheControl: 'no-store', connectSources });
}

export async function serveStatic(dir: string, handler: http.RequestListener = staticHandler(dir)): Promise<StaticServer> {
	const server = http.createServer(handler);

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

	const { port } = server.address() as AddressInfo;

	return {
		origin: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}
