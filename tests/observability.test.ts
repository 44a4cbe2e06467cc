// /metrics and /admin/drain on the ops listener (and not on the signaling
// port), draining for deploys, and TURN credentials handed to clients.

import { createHmac } from 'node:crypto';
import test from 'ava';
import { aliceAndBob, errorCodeOf, TestPeer } from './helpers/client.js';
import { startServer } from './helpers/server.js';

const ADMIN_TOKEN = 'an-admin-token-of-at-least-32-characters';

test.serial('/metrics (ops listener) reports objects, worker usage, requests by method and code, and latency', async (t) => {
	const { server, url, httpUrl, opsUrl } = await startServer();

	t.teardown(() => server.close());

	const { alice, bob } = await aliceAndBob(t, url, { media: true });
	await bob.consume((await alice.produce('video', { source: 'camera' })).id);
	await errorCodeOf(bob.untypedRequest('fly'));
	await errorCodeOf(bob.untypedRequest('x'.repeat(60)));

	t.is((await fetch(`${httpUrl}/metrics`)).status, 404, 'not on the signaling port');

	const res = await fetch(`${opsUrl}/metrics`);
	const text = await res.text();
	const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

	t.is(res.status, 200);
	t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
	t.is(value('vcall_objects{type="rooms"}'), 1);
	t.is(value('vcall_objects{type="peers"}'), 2);
	t.is(value('vcall_objects{type="transports"}'), 4);
	t.is(value('vcall_objects{type="producers"}'), 1);
	t.is(value('vcall_objects{type="consumers"}'), 1);
	t.true(value('vcall_worker_cpu_seconds{worker="0"}') > 0);
	t.true(value('vcall_worker_resident_memory_bytes{worker="0"}') > 1e6);
	t.true(value('vcall_transport_bytes{direction="in"}') >= 0);
	t.is(value('vcall_requests_total{method="createRoom",code="ok"}'), 1);
	t.is(value('vcall_requests_total{method="unknown",code="405"}'), 2, 'client-chosen method names share one label');
	t.is(value('vcall_request_duration_seconds_count{method="consume"}'), 1);
	t.regex(text, /^vcall_node_process_cpu_seconds_total /m);
});

test.serial('draining refuses new rooms, keeps calls going, then closes when the last call ends', async (t) => {
	const { server, url, httpUrl, opsUrl } = await startServer({ adminToken: ADMIN_TOKEN, drainTimeout: 30 });

	t.teardown(() => server.close());

	const [alice, bob, carol] = await Promise.all([TestPeer.connect(url), TestPeer.connect(url), TestPeer.connect(url)]);

	t.teardown(() => [alice, bob, carol].forEach((p) => p.close()));
	await alice.create();

	const drainWith = (base: string, authorization?: string) => fetch(`${base}/admin/drain`, { method: 'POST', headers: authorization ? { authorization } : {} });

	t.is((await drainWith(httpUrl, `Bearer ${ADMIN_TOKEN}`)).status, 405, 'the signaling port takes no POST, the right token included');
	t.is((await fetch(`${httpUrl}/admin/drain`)).status, 404);
	t.is((await drainWith(opsUrl)).status, 401);
	t.is((await drainWith(opsUrl, 'Bearer nope')).status, 401);
	t.is((await fetch(`${opsUrl}/admin/drain`)).status, 405);
	t.is(server.health().status, 'healthy');

	const drained = server.done;

	t.is((await drainWith(opsUrl, `Bearer ${ADMIN_TOKEN}`)).status, 202);

	const health = await fetch(`${httpUrl}/health`);

	t.is(health.status, 503);
	t.is(((await health.json()) as { status: string }).status, 'draining');
	t.is(await errorCodeOf(carol.request('createRoom', {})), 503, 'no new rooms');
	await bob.join(alice.roomId);
	await bob.setupMedia();
	t.is((await alice.roomRequest('getRoomInfo')).peerCount, 2, 'the call in progress goes on');

	await alice.roomRequest('leaveRoom');
	await bob.roomRequest('leaveRoom');
	// The last peer has left: the drain finishes without waiting for the idle room to close.
	await drained;
	t.true(server.shuttingDown);
});

test.serial('a drain with calls still going ends at DRAIN_TIMEOUT with roomClosed', async (t) => {
	const { server, url } = await startServer({ drainTimeout: 0.3 });

	t.teardown(() => server.close());

	const alice = await TestPeer.connect(url);

	t.teardown(() => alice.close());
	await alice.create();
	await server.drain();
	t.is((await alice.waitFor('roomClosed')).data.reason, 'drainTimeout');
});

test.serial('createWebRtcTransport hands out time-limited TURN credentials (coturn use-auth-secret)', async (t) => {
	const { server, url } = await startServer({ turnUrls: 'turn:turn.example:3478, turns:turn.example:5349', turnSecret: 's3cret', turnCredentialTtl: 600 });

	t.teardown(() => server.close());

	const alice = await TestPeer.connect(url);

	t.teardown(() => alice.close());
	await alice.create();

	const transport = await alice.roomRequest('createWebRtcTransport', { direction: 'send' });
	const [ice] = transport.iceServers;
	const [expiry, peerId] = ice.username.split(':');

	t.deepEqual(ice.urls, ['turn:turn.example:3478', 'turns:turn.example:5349']);
	t.is(peerId, alice.peerId);
	t.true(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 5);
	t.is(ice.credential, createHmac('sha1', 's3cret').update(ice.username).digest('base64'));
});
