#!/usr/bin/env node
// Serves the browser client (dist/client) so people can try a call against a
// running vcall server: open the page in two tabs, or on two machines.
//
//   node scripts/demo.mjs [--port 8080] [--host 0.0.0.0] [--server ws://host:3000/]
//                         [--server-port 3000] [--cert cert.pem --key key.pem] [--build]
//
// The page asks /config.json for the server's WebSocket URL. Without --server
// it is ws(s)://<the host name the browser used>:<server port>/, so the same
// demo works from localhost and from another machine on the LAN. The page's
// Content-Security-Policy lets it connect to that server only; a ?server=
// naming another one is ignored unless the user confirms (and the CSP then
// still blocks it: start the demo with --server for another server).
//
// The server must accept this page's origin: start it with
// FRONTEND_URL=http://localhost:8080 (or the LAN origin, or '*').
// Browsers grant camera and microphone only to secure contexts: http://localhost
// is one, http://<LAN IP> is not, so for a second machine serve HTTPS (--cert,
// --key) and run the server with TLS (wss://), or start that machine's Chrome with
// --unsafely-treat-insecure-origin-as-secure=http://<LAN IP>:8080.
// For media to reach another machine, the server needs MEDIASOUP_ANNOUNCED_IP
// set to its LAN address.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
	options: {
		port: { type: 'string', default: process.env.DEMO_PORT ?? '8080' },
		host: { type: 'string', default: process.env.DEMO_HOST ?? '0.0.0.0' },
		server: { type: 'string', default: process.env.VCALL_SERVER_URL },
		'server-port': { type: 'string', default: process.env.PORT ?? '3000' },
		dir: { type: 'string', default: path.join(root, 'dist/client') },
		cert: { type: 'string' },
		key: { type: 'string' },
		build: { type: 'boolean', default: false },
		help: { type: 'boolean', short: 'h', default: false }
	}
});

if (values.help) {
	console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 22).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
	process.exit(0);
}

const dir = path.resolve(values.dir);

if (values.build || !existsSync(path.join(dir, 'app.js'))) {
	const built = spawnSync(process.execPath, [path.join(root, 'scripts/build-client.mjs'), '--outdir', dir], { stdio: 'inherit' });

	if (built.status !== 0) process.exit(built.status ?? 1);
}

// The file server is the one the tests use, compiled by `npm run build`.
const staticFilesModule = path.join(root, 'dist/lib/http/static-files.js');

if (!existsSync(staticFilesModule)) {
	console.error(`vcall demo: ${path.relative(root, staticFilesModule)} is missing: run \`npm run build\` first`);
	process.exit(1);
}

const { staticFiles } = await import(pathToFileURL(staticFilesModule).href);
const tls = values.cert && values.key ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined;

function serverUrlFor(req) {
	if (values.server) return values.server;

	const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');

	return `${tls ? 'wss' : 'ws'}://${host}:${values['server-port']}/`;
}

function handle(req, res) {
	const url = new URL(req.url ?? '/', 'http://demo');

	if (url.pathname === '/config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
		res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ serverUrl: serverUrlFor(req) }));
		return;
	}

	// The page may connect to itself and to its configured server only (CSP connect-src).
	const server = new URL(serverUrlFor(req));

	staticFiles(dir, { connectSources: [`${server.protocol}//${server.host}`] })(req, res);
}

const server = tls ? https.createServer(tls, handle) : http.createServer(handle);

server.listen(Number(values.port), values.host, async () => {
	const { port } = server.address();
	const scheme = tls ? 'https' : 'http';
	const origin = `${scheme}://localhost:${port}`;
	const wsUrl = values.server ?? `${tls ? 'wss' : 'ws'}://localhost:${values['server-port']}/`;

	console.log(`vcall demo: serving ${path.relative(root, dir) || dir} on ${scheme}://${values.host}:${port}/`);
	console.log(`  open ${origin}/ in two tabs (Join with an empty room creates one; the invite link joins it)`);
	console.log(`  signaling server: ${wsUrl} (start it with FRONTEND_URL=${origin} or '*')`);

	// Tell whether the server is there, and which listener it runs.
	const healthUrl = wsUrl.replace(/^ws/, 'http').replace(/\/?$/, '/health');

	try {
		const response = await fetch(healthUrl, { signal: AbortSignal.timeout(2000) });
		const health = await response.json();

		console.log(`  server health: ${health.status}, listener ${health.listener?.kind ?? '?'}, ${health.rooms} rooms, ${health.peers} peers`);
	} catch (error) {
		console.log(`  server not reachable at ${healthUrl} (${error.cause?.code ?? error.message}): start it with \`npm start\``);
	}
});

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
