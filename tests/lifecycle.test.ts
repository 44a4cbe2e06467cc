// Failures and shutdown: a mediasoup worker killed with SIGKILL, and the
// real server process stopped with SIGTERM while peers are connected.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { TestPeer } from './helpers/client.js';
import { waitFor } from './helpers/wait.js';
import { startServer } from './helpers/server.js';

const mainScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'main.js');

test.serial('a worker killed with SIGKILL closes only its rooms and is replaced', async (t) => {
	const { server, url } = await startServer({ numWorkers: 2 });

	t.teardown(() => server.close());

	const [a1, a2, b1] = await Promise.all([TestPeer.connect(url), TestPeer.connect(url), TestPeer.connect(url)]);

	t.teardown(() => [a1, a2, b1].forEach((p) => p.close()));
	await a1.create();
	await a2.join(a1.roomId);
	await b1.create();

	const rooms = [...server.rooms.rooms];
	const roomA = rooms.find((r) => r.id === a1.roomId)!;
	const roomB = rooms.find((r) => r.id === b1.roomId)!;

	t.not(roomA.mediaWorker, roomB.mediaWorker, 'rooms are spread over the least-loaded workers');

	const replaced = once(server.workers, 'replaced');

	process.kill(roomA.mediaWorker.worker.pid, 'SIGKILL');

	for (const peer of [a1, a2]) t.is((await peer.waitFor('roomClosed')).data.reason, 'workerDied');
	t.is(b1.count('roomClosed'), 0);
	t.is((await b1.roomRequest('getRoomInfo')).peerCount, 1, 'the other room is untouched');

	// New rooms work at once (on the surviving worker), and the dead one comes back.
	const c1 = await TestPeer.connect(url);

	t.teardown(() => c1.close());
	await c1.create();
	await c1.setupMedia();
	await replaced;
	t.is(server.health().workers, 2);

	// The peers of the dead room can start over on the same connection.
	await a1.create();
	t.truthy(a1.roomId);
});

test.serial('SIGTERM: every peer gets roomClosed {reason: shutdown} and the process exits 0', async (t) => {
	const child = spawn(process.execPath, [mainScript], {
		env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0', MEDIASOUP_LISTEN_IP: '127.0.0.1', MEDIASOUP_NUM_WORKERS: '2', MEDIASOUP_MIN_PORT: '39000', MEDIASOUP_MAX_PORT: '39099', ENV_FILE: '/dev/null' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';

	child.stdout.on('data', (chunk) => (output += chunk));
	child.stderr.on('data', (chunk) => (output += chunk));
	t.teardown(() => child.kill('SIGKILL'));

	await waitFor(() => /http\/ws :(\d+)/.test(output), { what: 'the server to listen', timeout: 20_000, interval: 20 });

	const port = Number(/http\/ws :(\d+)/.exec(output)![1]);
	const url = `ws://127.0.0.1:${port}/`;
	const peers = await Promise.all(Array.from({ length: 4 }, () => TestPeer.connect(url)));

	t.teardown(() => peers.forEach((p) => p.close()));
	await peers[0]!.create();
	await peers[1]!.join(peers[0]!.roomId);
	await peers[2]!.create();
	await peers[3]!.join(peers[2]!.roomId);
	for (const peer of peers) await peer.setupMedia();

	const started = Date.now();
	const exited = once(child, 'exit');

	child.kill('SIGTERM');
	for (const peer of peers) t.is((await peer.waitFor('roomClosed')).data.reason, 'shutdown');

	const [code] = await exited;

	t.is(code, 0, output);
	t.true(Date.now() - started < 10000, 'exited within 10 s');
	t.regex(output, /SIGTERM received/);
	t.notRegex(output, /workerDied|died/);
});
