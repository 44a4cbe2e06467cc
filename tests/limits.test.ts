// Quotas and rate limits: each refuses with its documented code, and what is
// under the limit keeps working.

import net from 'node:net';
import test from 'ava';
import WebSocket from 'ws';
import { errorCodeOf, TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { waitFor } from './helpers/wait.js';
import { RawClient } from './helpers/raw.js';
import { startServer } from './helpers/server.js';
import { enforceBufferBudget } from '../lib/listener/common.js';
import { Cooldowns } from '../lib/limits/Cooldowns.js';
import { KeyedBuckets, TokenBucket } from '../lib/limits/TokenBucket.js';

const { kinds } = await availableListeners();

/** The HTTP status of a refused WebSocket upgrade, or 101 when it was accepted. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ws?: WebSocket }> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, 'protoo', { headers });

		ws.once('open', () => resolve({ status: 101, ws }));
		ws.once('unexpected-response', (_req, res) => {
			resolve({ status: res.statusCode ?? 0 });
			ws.terminate();
		});
		ws.once('error', (error) => reject(error));
	});
}

test('cool-downs expire on their own, and a new one replaces the old', (t) => {
	const cooldowns = new Cooldowns(10_000);

	cooldowns.add('a', 0);
	t.is(cooldowns.remaining('a', 1), 10);
	t.is(cooldowns.remaining('a', 9_500), 1);
	t.is(cooldowns.remaining('a', 10_000), 0, 'over');
	t.is(cooldowns.remaining('b', 0), 0, 'never refused');
	cooldowns.add('a', 20_000);
	t.is(cooldowns.remaining('a', 25_000), 5);
});

test('token buckets refill at their rate, up to their burst', (t) => {
	const bucket = new TokenBucket(2, 3, 0);

	t.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
	t.true(bucket.take(500), 'one token after 0.5 s at 2/s');
	t.false(bucket.take(500));
	t.true(bucket.full(10_000));

	const perKey = new KeyedBuckets(2, 60);

	t.deepEqual([perKey.take('a', 0), perKey.take('a', 0), perKey.take('a', 0), perKey.take('b', 0)], [true, true, false, true]);
	t.true(perKey.take('a', 30_000), 'one more after half a minute at 2/min');
});

test('the buffer budget drops the sockets holding most until the total fits', (t) => {
	const dropped: number[] = [];
	const sockets = [10, 500, 0, 300, 200].map((bytes, i) => ({ bufferedAmount: () => bytes, terminate: () => dropped.push(i) }));

	t.is(enforceBufferBudget(sockets, 2000), 0);
	t.is(enforceBufferBudget(sockets, 300), 2);
	t.deepEqual(dropped, [1, 3], 'the 500- and 300-byte holders go; 210 bytes are left');
});

for (const listener of kinds) {
	test.serial(`[${listener}] MAX_ROOMS, MAX_PEERS and ROOM_CREATES_PER_MINUTE`, async (t) => {
		const { server, url } = await startServer({ listener, maxRooms: 2, maxPeers: 3 });

		t.teardown(() => server.close());

		const peers = await Promise.all(Array.from({ length: 4 }, () => TestPeer.connect(url)));

		t.teardown(() => peers.forEach((p) => p.close()));

		const [a, b, c, d] = peers as [TestPeer, TestPeer, TestPeer, TestPeer];

		await a.create();
		await b.create();
		t.is(await errorCodeOf(c.create()), 503, 'MAX_ROOMS');
		await c.join(a.roomId);
		t.is(await errorCodeOf(d.join(a.roomId)), 503, 'MAX_PEERS');


		const creates = await startServer({ listener, roomCreatesPerMinute: 2 });

		t.teardown(() => creates.server.close());

		const e = await TestPeer.connect(creates.url);

		t.teardown(() => e.close());
		// Two creations from this address are allowed in a minute, the third is not.
		await e.create();
		await e.roomRequest('leaveRoom');
		await e.create();
		await e.roomRequest('leaveRoom');
		t.is(await errorCodeOf(e.create()), 429, 'ROOM_CREATES_PER_MINUTE');
	});

	test.serial(`[${listener}] MAX_CONNECTIONS_PER_IP, and TRUST_PROXY reads X-Forwarded-For`, async (t) => {
		const direct = await startServer({ listener, maxConnectionsPerIp: 2 });

		t.teardown(() => direct.server.close());

		const open = [await upgradeStatus(direct.url), await upgradeStatus(direct.url)];

		t.deepEqual(open.map((o) => o.status), [101, 101]);
		t.is((await upgradeStatus(direct.url, { 'x-forwarded-for': '203.0.113.9' })).status, 429, 'without TRUST_PROXY the header is ignored');
		open[0]!.ws!.close();
		await new Promise((resolve) => open[0]!.ws!.once('close', resolve));
		await waitFor(async () => {
			const retry = await upgradeStatus(direct.url);

			retry.ws?.terminate();

			return retry.status === 101;
		}, { what: 'the closed connection no longer counts', timeout: 10_000, interval: 20 });
		open[1]!.ws!.terminate();

		const proxied = await startServer({ listener, maxConnectionsPerIp: 1, trustProxy: true });

		t.teardown(() => proxied.server.close());

		const first = await upgradeStatus(proxied.url, { 'x-forwarded-for': 'spoofed, 198.51.100.1' });

		t.is(first.status, 101);
		t.is((await upgradeStatus(proxied.url, { 'x-forwarded-for': '198.51.100.1' })).status, 429);
		t.is((await upgradeStatus(proxied.url, { 'x-forwarded-for': '198.51.100.1, 198.51.100.2' })).status, 101, 'the last entry counts');
		first.ws!.terminate();
	});

	test.serial(`[${listener}] request token bucket: 429 over the rate, close 4000 when the flood goes on, then the address waits`, async (t) => {
		const { server, url } = await startServer({ listener, requestRate: 1, requestBurst: 5, trustProxy: true });

		t.teardown(() => server.close());

		const flooder = { 'x-forwarded-for': '198.51.100.7' };
		const raw = await RawClient.open(url, flooder);
		const first = await Promise.all(Array.from({ length: 6 }, () => raw.request('heartbeat', {})));

		t.deepEqual(first.map((r) => r.errorCode), [undefined, undefined, undefined, undefined, undefined, 429]);
		t.regex(first[5].errorReason, /more than 1 requests per second/);

		for (let i = 0; i < 10; i++) raw.ws.send(JSON.stringify({ request: true, id: 100 + i, method: 'heartbeat', data: {} }));
		t.deepEqual(await raw.closed, { code: 4000, reason: 'request rate limit exceeded' });

		// Reconnecting at once is refused at the upgrade (no handshake, no session); other addresses are not.
		t.is((await upgradeStatus(url, flooder)).status, 429);
		const other = await upgradeStatus(url, { 'x-forwarded-for': '198.51.100.8' });

		t.is(other.status, 101);
		other.ws?.terminate();
	});

	test.serial(`[${listener}] MAX_REQUESTS_IN_FLIGHT and MAX_ROOM_QUEUE`, async (t) => {
		const { server, url } = await startServer({ listener, maxRequestsInFlight: 1, maxRoomQueue: 1 });

		t.teardown(() => server.close());

		const raw = await RawClient.open(url);

		t.teardown(() => raw.ws.terminate());

		// createRoom waits for a router; the second request arrives while it is in flight.
		const [created, second] = await Promise.all([raw.request('createRoom', {}), raw.request('heartbeat', {})]);

		t.true(created.ok);
		t.is(second.errorCode, 429);
		t.regex(second.errorReason, /more than 1 requests in flight/);

		const alice = await TestPeer.connect(url);
		const bob = await TestPeer.connect(url);

		t.teardown(() => [alice, bob].forEach((p) => p.close()));
		await alice.join(created.data.roomId);
		await bob.join(created.data.roomId);

		// Alice's transport is being created on the room's queue; bob's request finds it full.
		const [aliceTransport, bobTransport] = await Promise.allSettled([
			alice.roomRequest('createWebRtcTransport', { direction: 'send' }),
			bob.roomRequest('createWebRtcTransport', { direction: 'send' })
		]);

		t.is(aliceTransport.status, 'fulfilled');
		t.is(bobTransport.status === 'rejected' && (bobTransport.reason as { code: number }).code, 429);
		t.truthy(await bob.roomRequest('createWebRtcTransport', { direction: 'send' }), 'fine once the queue is empty');
	});

	test.serial(`[${listener}] a connection without a room is closed after JOIN_TIMEOUT; a joined one stays`, async (t) => {
		const { server, url } = await startServer({ listener, joinTimeout: 0.3, peerTimeout: 60 });

		t.teardown(() => server.close());

		const idle = await RawClient.open(url);
		const joined = await TestPeer.connect(url);

		t.teardown(() => joined.close());
		await joined.create();
		t.deepEqual(await idle.closed, { code: 4000, reason: 'join timeout: no room joined' });
		t.truthy((await joined.request('heartbeat')).serverTime);
		t.is(server.rooms.sessionCount, 1);
	});
}

test.serial('[node] HTTP_HEADERS_TIMEOUT: a client that never finishes its headers is cut off', async (t) => {
	const { server, httpUrl } = await startServer({ listener: 'node', httpHeadersTimeout: 1 });

	t.teardown(() => server.close());

	const { port } = new URL(httpUrl);
	const socket = net.connect(Number(port), '127.0.0.1');
	const started = Date.now();
	let answer = '';

	socket.on('data', (chunk) => (answer += String(chunk)));
	socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
	await new Promise((resolve) => socket.once('close', resolve));
	t.regex(answer, /^HTTP\/1\.1 408/);
	t.true(Date.now() - started < 5000, 'closed within a few seconds of the 1 s timeout');
});
