// A static file server for the bundled client, run as a child process inside
// the server's namespace (a Node process cannot switch namespaces itself):
//   node static-server.js <dir> <host> <port>
// Prints "static listening http://<host>:<port>" once it listens.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const [dirArg, host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);

if (!dirArg) {
	console.error('usage: static-server.js <dir> <host> <port>');
	process.exit(2);
}

const dir = path.resolve(dirArg);
const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.map': 'application/json'
};

const server = http.createServer((req, res) => {
	const url = new URL(req.url ?? '/', 'http://x');
	const file = path.resolve(dir, `.${url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)}`);

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
});

server.listen(Number(portArg), host, () => {
	const { port } = server.address() as AddressInfo;

	console.log(`static listening http://${host}:${port}`);
});

const stop = (): void => {
	server.closeAllConnections();
	server.close(() => process.exit(0));
};

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
