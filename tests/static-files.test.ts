// The file server of the demo page and of the tests' page server
// (lib/http/static-files.ts), over a real socket: what it serves, and the
// requests it refuses without going down.

import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { staticFiles } from '../lib/http/static-files.js';

/** A raw request (the path exactly as given: no client-side normalization). */
function request(port: number, method: string, target: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port, method, path: target, agent: false }, (res) => {
			let body = '';

			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
		});

		req.on('error', reject);
		req.end();
	});
}

test('serves the files of its directory and refuses the rest with 400/403/404/405', async (t) => {
	const parent = await mkdtemp(path.join(os.tmpdir(), 'vcall-static-'));
	const dir = path.join(parent, 'site');

	await mkdir(path.join(dir, 'sub'), { recursive: true });
	await writeFile(path.join(dir, 'index.html'), '<p>hi</p>');
	await writeFile(path.join(dir, 'app.js'), 'export {};');
	await writeFile(path.join(parent, 'secret.txt'), 'outside');

	const server = http.createServer(staticFiles(dir, { cacheControl: 'no-store', connectSources: ['wss://call.example:3443'] }));

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
		await rm(parent, { recursive: true, force: true });
	});

	const { port } = server.address() as AddressInfo;
	const index = await request(port, 'GET', '/');

	t.is(index.status, 200);
	t.is(index.body, '<p>hi</p>');
	t.is(index.headers['content-type'], 'text/html; charset=utf-8');
	t.is(index.headers['cache-control'], 'no-store');
	t.is(index.headers['x-content-type-options'], 'nosniff');
	t.is(index.headers['referrer-policy'], 'no-referrer');
	t.is(index.headers['x-frame-options'], 'DENY');
	t.is(
		index.headers['content-security-policy'],
		"default-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self' wss://call.example:3443; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		'the page: only itself, and connections to its own server'
	);

	const script = await request(port, 'GET', '/app.js?v=1');

	t.is(script.status, 200);
	t.is(script.headers['content-type'], 'text/javascript; charset=utf-8');

	const head = await request(port, 'HEAD', '/app.js');

	t.is(head.status, 200);
	t.is(head.headers['content-length'], String('export {};'.length));
	t.is(head.body, '');

	t.is((await request(port, 'GET', '/%E0')).status, 400, 'a malformed escape');
	t.is((await request(port, 'GET', '/..%2Fsecret.txt')).status, 403, 'an escaped path out of the directory');
	t.is((await request(port, 'GET', '/nope.js')).status, 404);
	t.is((await request(port, 'GET', '/sub')).status, 404, 'a directory is no file');

	const post = await request(port, 'POST', '/');

	t.is(post.status, 405);
	t.is(post.headers.allow, 'GET, HEAD');
	t.is(post.headers['x-frame-options'], 'DENY', 'refusals carry the headers too');
	t.is((await request(port, 'GET', '/')).status, 200, 'still serving after all that');
});
