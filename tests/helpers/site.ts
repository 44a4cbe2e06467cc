// The browser client, bundled by scripts/build-client.mjs into a temporary
// directory and served from a static HTTP server (no playwright here: the
// network lab serves it from a child process inside a namespace).

import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './paths.js';

const execFileAsync = promisify(execFile);

/** Bundles lib/client into a fresh temporary directory (so parallel test files never share one). */
export async function buildClient(): Promise<string> {
	const outdir = await mkdtemp(path.join(os.tmpdir(), 'vcall-client-'));

	await execFileAsync(process.execPath, [path.join(ROOT, 'scripts/build-client.mjs'), '--outdir', outdir], { cwd: ROOT });

	return outdir;
}

const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.map': 'application/json'
};

export interface StaticServer {
	origin: string;
	close(): Promise<void>;
}

/** Serves the files under dir (index.html at /), nothing outside it. */
export function staticHandler(dir: string): http.RequestListener {
	return (req, res) => {
		const url = new URL(req.url ?? '/', 'http://x');
		let file: string;

		try {
			file = path.resolve(dir, `.${url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)}`);
		} catch {
			res.writeHead(400).end(); // a malformed escape such as /%E0
			return;
		}

		if (!file.startsWith(dir + path.sep)) {
			res.writeHead(403).end();
			return;
		}
		stat(file).then(
			(info) => {
				if (!info.isFile()) throw new Error('not a file');
				res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-store' });
				createReadStream(file).pipe(res);
			},
			() => res.writeHead(404).end()
		);
	};
}

export async function serveStatic(dir: string): Promise<StaticServer> {
	const server = http.createServer(staticHandler(dir));

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
