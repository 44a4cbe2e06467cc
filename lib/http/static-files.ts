// Serves the files of one directory over node:http: the browser client's
// bundle, for the demo page (scripts/demo.mjs) and the tests' page server.
// The vcall server itself serves no files.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pageCsp, securityHeaders } from './security-headers.js';

const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.map': 'application/json',
	'.json': 'application/json',
	'.svg': 'image/svg+xml',
	'.ico': 'image/x-icon'
};

export interface StaticFilesOptions {
	cacheControl?: string;
	/** Where the page may connect besides itself (CSP connect-src): its signaling server, e.g. 'ws://host:3000'. */
	connectSources?: readonly string[];
}

/**
 * GET and HEAD of the files under `dir` (index.html at /), nothing outside it:
 * 400 for a malformed escape, 403 outside dir, 404 for no such file, 405 for
 * other methods. Every answer carries the security headers and the page's CSP.
 */
export function staticFiles(dir: string, { cacheControl = 'no-cache', connectSources = [] }: StaticFilesOptions = {}): http.RequestListener {
	const root = path.resolve(dir);
	const headers = securityHeaders({ secure: false, csp: pageCsp(connectSources) });

	return (req, res) => {
		for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
		// HSTS only means something over TLS (the demo's --cert).
		if ((req.socket as { encrypted?: boolean }).encrypted) res.setHeader('strict-transport-security', securityHeaders({ secure: true })['strict-transport-security']!);

		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.writeHead(405, { allow: 'GET, HEAD' }).end();
			return;
		}

		const { pathname } = new URL(req.url ?? '/', 'http://x');
		let file: string;

		try {
			file = path.resolve(root, `.${pathname === '/' ? '/index.html' : decodeURIComponent(pathname)}`);
		} catch {
			res.writeHead(400).end(); // a malformed escape such as /%E0 must not take the server down
			return;
		}
		if (!file.startsWith(root + path.sep)) {
			res.writeHead(403).end();
			return;
		}
		stat(file).then(
			(info) => {
				if (!info.isFile()) throw new Error('not a file');
				res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': cacheControl });
				if (req.method === 'HEAD') res.end();
				else createReadStream(file).pipe(res);
			}
		).catch(() => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
	};
}
