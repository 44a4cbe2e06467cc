// Concurrent joins on one socket: exactly one wins, the others get 409, and
// once the socket drops nothing is left behind (rooms, peers, routers).

import test from 'ava';
import { TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { waitFor } from './helpers/wait.js';
import { RawClient } from './helpers/raw.js';
import { startServer } from './helpers/server.js';
import type { Server } from '../server/Server.js';

const { kinds } = await availableListeners();

async function routerCount(server: Server): Promise<number> {
	let routers = 0;

	for (const { worker } of server.workers.workers) routers += (await worker.dump()).routerIds.length;

	return routers;
}

/** Sends `count` copies of a request at once and resolves with the error codes (undefined for success). */
async function burst(raw: RawClient, count: number, method: string, data: unknown): Promise<(number | undefined)[]> {
	const responses = await Promise.all(Array.from({ length: count }, () => raw.request(method, data)));

	return responses.map((r) => (r.ok ? undefined : r.errorCode));
}

for (const listener of kinds) {
	test.serial(`[${listener}] 20 concurrent joins on one socket bind one peer, and a drop leaves nothing`, async (t) => {
		// Enough requests in flight that all 20 joins reach the room logic.
		const { server, url } = await startServer({ listener, reconnectGrace: 0.2, roomIdleTimeout: 0.5, maxRequestsInFlight: 32 });

		t.teardown(() => server.close());

		const alice = await TestPeer.connect(url);

		t.teardown(() => alice.close());
		await alice.create();

		const creator = await RawClient.open(url);
		const created = await burst(creator, 20, 'createRoom', {});

		t.is(created.filter((code) => code === undefined).length, 1, 'one createRoom succeeds');
		t.deepEqual(created.filter((code) => code !== undefined), Array(19).fill(409));
		t.is(server.rooms.roomCount, 2);

		const joiner = await RawClient.open(url);
		const joined = await burst(joiner, 20, 'joinRoom', { roomId: alice.roomId });

		t.is(joined.filter((code) => code === undefined).length, 1, 'one joinRoom succeeds');
		t.is((await alice.roomRequest('getRoomInfo')).peerCount, 2, 'one extra peer in alice\'s room, not 20');

		// A join after the winner is still refused: the session holds one peer.
		t.is((await creator.request('joinRoom', { roomId: alice.roomId })).errorCode, 409);

		creator.ws.terminate();
		joiner.ws.terminate();
		await waitFor(() => server.rooms.roomCount === 1 && server.rooms.peerCount === 1, { what: 'only alice and her room are left', timeout: 10_000, interval: 20 });
		await waitFor(async () => (await routerCount(server)) === 1, { what: 'only the router of alice\'s room is left', timeout: 10_000, interval: 20 });
		t.is((await alice.roomRequest('getRoomInfo')).peerCount, 1);
	});

	test.serial(`[${listener}] each rejoin hands out a new reconnect token, and the old one is refused`, async (t) => {
		const { server, url } = await startServer({ listener, reconnectGrace: 30 });

		t.teardown(() => server.close());

		const alice = await TestPeer.connect(url);

		t.teardown(() => alice.close());
		await alice.create();

		const first = await RawClient.open(url);
		const rejoined = await first.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: alice.reconnectToken });

		t.true(rejoined.ok);
		t.regex(rejoined.data.reconnectToken, /^[A-Za-z0-9_-]{32}$/);
		t.not(rejoined.data.reconnectToken, alice.reconnectToken);

		const replay = await RawClient.open(url);

		t.teardown(() => [first, replay].forEach((c) => c.ws.terminate()));
		t.is((await replay.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: alice.reconnectToken })).errorCode, 401, 'the old token is spent');
		t.true((await replay.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: rejoined.data.reconnectToken })).ok);
	});
}
