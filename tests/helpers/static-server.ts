// A static file server for the bundled client, run as a child process inside
// the server's namespace (a Node process cannot switch namespaces itself):
//   node static-server.js <dir> <host> <port>
// Prints "static listening http://<host>:<port>" once it listens.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { staticHandler } from './site.js';

const [dirArg, host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);

if (!dirArg) {
	console.error('usage: static-server.js <dir> <host> <port>');
	process.exit(2);
}

const server = http.createServer(staticHandler(path.resolve(dirArg)));

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
