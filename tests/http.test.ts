// The HTTP endpoints and the WebSocket origin check, on every listener.

import os from 'node:os';
import test from 'ava';
import WebSocket from 'ws';
import { TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { startServer } from './helpers/server.js';

const { kinds } = await availableListeners();

function upgradeStatus(url: string, options: WebSocket.ClientOptions, protocol = 'protoo'): Promise<number> {
	return new Promise((resolve) => {
		const ws = new WebSocket(url, protocol, options);

		ws.once('open', () => {
			ws.close();
			resolve(101);
		});
		ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
		ws.once('error', () => undefined);
	});
}

for (const listener of kinds) {
	test.serial(`[${listener}] /health (public shape; internals on the ops listener), /api/server-info, CORS and the origin check`, async (t) => {
		const { server, url, httpUrl, opsUrl } = await startServer({ listener, frontendUrl: 'https://app.example', announcedIp: '203.0.113.7' });

		t.teardown(() => server.close());

		const peer = await TestPeer.connect(url);

		t.teardown(() => peer.close());
		await peer.create();

		let res = await fetch(`${httpUrl}/health`, { headers: { origin: 'https://app.example' } });
		const health = (await res.json()) as any;

		t.is(res.status, 200);
		t.is(res.headers.get('access-control-allow-origin'), 'https://app.example');
		t.is(health.status, 'healthy');
		t.is(health.rooms, 1);
		t.is(health.peers, 1);
		t.is(health.workers, 1);
		t.true(Number.isInteger(health.uptime));
		t.regex(health.memory.used, /^\d+(\.\d)?[MG]B$/);
		t.regex(health.memory.total, /^\d+(\.\d)?[MG]B$/);
		// "450MB of 1GB": the process's RSS against the machine's memory.
		const bytes = (size: string) => Number.parseFloat(size) * 1024 ** (size.endsWith('GB') ? 3 : 2);

		t.true(bytes(health.memory.used) < bytes(health.memory.total), `used ${health.memory.used} of ${health.memory.total}`);
		t.true(Math.abs(bytes(health.memory.total) / os.totalmem() - 1) < 0.01, `total ${health.memory.total} is the machine's memory`);
		t.deepEqual(Object.keys(health).sort(), ['auth', 'listener', 'memory', 'peers', 'rooms', 'status', 'uptime', 'workers']);
		t.deepEqual(health.listener, { kind: listener }, 'no loader error or other listener details in public');

		const internal = (await (await fetch(`${opsUrl}/health`)).json()) as any;

		t.like(internal, { status: 'healthy', rooms: 1, peers: 1, listener: { kind: listener }, media: { transports: 0 } });
		t.truthy(internal.listener.reason);
		t.like(internal.limits, { rooms: { open: 1, max: server.config.maxRooms }, peers: { open: 1, max: server.config.maxPeers }, connections: { open: 1, addresses: 1 }, sessions: 1 });

		res = await fetch(`${httpUrl}/api/server-info`, { headers: { origin: 'https://evil.example' } });
		t.deepEqual(await res.json(), { announcedIp: '203.0.113.7', announcedDomain: null, rtcPorts: { min: server.config.rtcMinPort, max: server.config.rtcMaxPort } });
		t.is(res.headers.get('access-control-allow-origin'), null, 'no CORS for other origins');

		t.is((await fetch(`${httpUrl}/nope`)).status, 404);
		t.is((await fetch(`${httpUrl}/health`, { method: 'POST' })).status, 405);
		t.is((await fetch(`${httpUrl}/health`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } })).status, 204);

		t.is(await upgradeStatus(url, { origin: 'https://evil.example' }), 403);
		t.is(await upgradeStatus(url, { origin: 'https://app.example' }), 101);
		t.is(await upgradeStatus(url, {}, 'chat'), 400);
		t.is(await upgradeStatus(`${url}other`, {}), 404);

		// Shutting down: /health answers 503 until the listener is gone.
		await server.shutdown();
		t.is(server.health().status, 'shutting-down');
		await peer.waitFor('roomClosed', (d) => d.reason === 'shutdown');
	});
}
