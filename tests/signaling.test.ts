// The whole signaling flow of a 7-peer call through the real server, real
// mediasoup worker, real protoo-client and mediasoup-client (FakeHandler).

import test from 'ava';
import { aliceAndBob, errorCodeOf, TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { waitFor } from './helpers/wait.js';
import { startServer } from './helpers/server.js';

const { kinds, skipped } = await availableListeners();

test('listeners under test', (t) => {
	t.log(`running: ${kinds.join(', ')}`);
	for (const line of skipped) t.log(line);
	// node everywhere; only uws where CI forces it (LISTENER=uws, Debian 13 root).
	t.true(kinds.includes(process.env.LISTENER === 'uws' ? 'uws' : 'node'));
});

for (const listener of kinds) {
	test.serial(`[${listener}] seven peers run the whole flow; the eighth is refused`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());
		t.is(server.listenerKind, listener);

		const peers: TestPeer[] = [];

		t.teardown(() => peers.forEach((p) => p.close()));

		// create + join
		const creator = await TestPeer.connect(url);

		peers.push(creator);
		const created = await creator.create({ displayName: 'peer0' });

		t.regex(created.roomId, /^[A-Za-z0-9_-]{22}$/);
		t.truthy(created.peerId);
		t.truthy(created.reconnectToken);
		t.deepEqual(created.peers, []);
		t.is((await creator.waitFor('roomCreated')).data.roomId, created.roomId);

		for (let i = 1; i < 7; i++) {
			const peer = await TestPeer.connect(url);

			peers.push(peer);
			const joined = await peer.join(created.roomId, { displayName: `peer${i}` });

			t.is(joined.peers.length, i, 'joinRoom lists everyone already there');
			t.deepEqual(joined.peers.map((p) => p.metadata.displayName), peers.slice(0, i).map((_, j) => `peer${j}`));
		}
		for (const [i, peer] of peers.entries()) t.is(peer.count('peerJoined'), 6 - i, `peer${i} heard every later join`);

		// the 8th is refused
		const eighth = await TestPeer.connect(url);

		t.teardown(() => eighth.close());
		t.is(await errorCodeOf(eighth.join(created.roomId)), 486);

		// media: capabilities, both transports, audio + video (+ screen on peer0)
		for (const peer of peers) {
			await peer.setupMedia();
			await peer.produce('audio', { source: 'mic' });
			await peer.produce('video', { source: 'camera' });
		}

		const screen = await creator.produce('video', { source: 'screen' });

		for (const [i, peer] of peers.entries()) {
			await waitFor(() => peer.count('newProducer') === 12 + (i === 0 ? 0 : 1), { what: `peer${i} to hear every other producer`, timeout: 10_000, interval: 20 });

			const screenNote = peer.notifications.find((n) => n.method === 'newProducer' && n.data.producerId === screen.id);

			if (i > 0) t.deepEqual(screenNote?.data, { producerId: screen.id, peerId: creator.peerId, kind: 'video', metadata: { source: 'screen' } });
		}

		// consume everything others produce
		for (const peer of peers) {
			const { producers } = await peer.roomRequest('getProducers');

			t.is(producers.length, peer === creator ? 12 : 13);
			t.false(producers.some((p: { peerId: string }) => p.peerId === peer.peerId), 'getProducers lists only the others');
			for (const producer of producers) {
				const consumer = await peer.consume(producer.producerId);

				t.is(consumer.kind, producer.kind);
			}
		}

		const health = server.health();

		t.is(health.peers, 7);
		t.is(health.media.producers, 15);
		t.is(health.media.consumers, 7 * 15 - 15);
		t.is(health.media.transports, 14);

		// pause / resume / close a producer: everyone else hears it
		const [, camera] = [...peers[3]!.producers.values()];

		await peers[3]!.roomRequest('pauseProducer', { producerId: camera!.id });
		await peers[3]!.roomRequest('resumeProducer', { producerId: camera!.id });
		t.deepEqual(await peers[3]!.roomRequest('closeProducer', { producerId: camera!.id }), { success: true });
		for (const peer of peers.filter((p) => p !== peers[3])) {
			for (const method of ['producerPaused', 'producerResumed', 'producerClosed'] as const)
				t.deepEqual((await peer.waitFor(method, (d) => d.producerId === camera!.id)).data, { producerId: camera!.id, peerId: peers[3]!.peerId });
		}
		// mediasoup reports consumers of a closed producer closed asynchronously.
		await waitFor(() => server.health().media.consumers === 7 * 15 - 15 - 6, { what: 'closing a producer to close its six consumers', timeout: 10_000, interval: 20 });

		// pause / resume a consumer
		const [someConsumer] = peers[1]!.consumers.values();

		t.deepEqual(await peers[1]!.roomRequest('pauseConsumer', { consumerId: someConsumer!.id }), { success: true });
		t.deepEqual(await peers[1]!.roomRequest('resumeConsumer', { consumerId: someConsumer!.id }), { success: true });

		// close a consumer: freed at once, a second close finds nothing
		const consumersBefore = server.health().media.consumers;

		t.deepEqual(await peers[1]!.roomRequest('closeConsumer', { consumerId: someConsumer!.id }), { success: true });
		t.is(server.health().media.consumers, consumersBefore - 1);
		t.is(await errorCodeOf(peers[1]!.roomRequest('closeConsumer', { consumerId: someConsumer!.id })), 404);
		peers[1]!.consumers.delete(someConsumer!.id);

		// leave: the others hear producerClosed for its producers and peerLeft
		const leaver = peers[6]!;

		t.deepEqual(await leaver.roomRequest('leaveRoom'), { success: true });
		for (const peer of peers.slice(0, 6)) {
			await peer.waitFor('peerLeft', (d) => d.peerId === leaver.peerId);
			t.is(peer.count('producerClosed', (d) => d.peerId === leaver.peerId), 2);
		}

		const info = await creator.roomRequest('getRoomInfo');

		t.is(info.peerCount, 6);
		t.is(info.peers.length, 6);
		t.is(info.maxPeers, 7);

		// now there is room for the eighth
		await eighth.join(created.roomId);
		t.is(server.health().peers, 7);
		t.is((await eighth.request('heartbeat')).serverTime > 0, true);
	});

	test.serial(`[${listener}] a peer that reconnects within the grace keeps its state; nobody sees it leave`, async (t) => {
		const { server, url } = await startServer({ listener, reconnectGrace: 5 });

		t.teardown(() => server.close());

		const { alice, bob } = await aliceAndBob(t, url, { media: true, aliceRetries: 10 });
		const producer = await alice.produce('video', { source: 'camera' });

		await bob.consume(producer.id);

		// Drop alice's socket under protoo-client: it reconnects by itself.
		const reopened = new Promise<void>((resolve) => alice.protoo.once('open', resolve));

		alice.dropSocket();
		await reopened;

		const rejoined = await alice.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: alice.reconnectToken });

		t.is(rejoined.peerId, alice.peerId);
		t.deepEqual(rejoined.peers.map((p: { peerId: string }) => p.peerId), [bob.peerId]);
		t.deepEqual(rejoined.producers.map((p: { producerId: string }) => p.producerId), [producer.id]);
		t.is(rejoined.transports.length, 2);

		const { iceParameters } = await alice.roomRequest('restartIce', { transportId: alice.sendTransport!.id });

		t.truthy(iceParameters.usernameFragment);
		t.is(bob.count('peerLeft'), 0, 'bob never saw alice leave');
		t.is(server.health().media.consumers, 1, "bob's consumer of alice's producer survived");

		// A wrong token is refused.
		const mallory = await TestPeer.connect(url);

		t.teardown(() => mallory.close());
		t.is(await errorCodeOf(mallory.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: 'x'.repeat(32) })), 401);
	});

	test.serial(`[${listener}] after the grace a dropped peer is removed and its objects freed`, async (t) => {
		const { server, url } = await startServer({ listener, reconnectGrace: 0.3 });

		t.teardown(() => server.close());

		const alice = await TestPeer.connect(url);
		const bob = await TestPeer.connect(url);

		t.teardown(() => bob.close());
		await alice.create();
		await bob.join(alice.roomId);
		await alice.setupMedia();
		await alice.produce('audio', { source: 'mic' });
		alice.close();

		await bob.waitFor('peerLeft', (d) => d.peerId === alice.peerId);
		t.is(bob.count('producerClosed'), 1);
		t.deepEqual(server.health().media, { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 });

		const late = await TestPeer.connect(url);

		t.teardown(() => late.close());
		t.is(await errorCodeOf(late.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: alice.reconnectToken })), 401);
	});

	test.serial(`[${listener}] silent peers time out, idle rooms close`, async (t) => {
		const { server, url } = await startServer({ listener, peerTimeout: 0.6, roomIdleTimeout: 0.3 });

		t.teardown(() => server.close());

		const silent = await TestPeer.connect(url);
		const chatty = await TestPeer.connect(url);

		t.teardown(() => [silent, chatty].forEach((p) => p.close()));
		await silent.create();
		await chatty.join(silent.roomId);

		const beat = setInterval(() => void chatty.request('heartbeat').catch(() => undefined), 100);

		t.teardown(() => clearInterval(beat));

		const closed = new Promise<void>((resolve) => silent.protoo.once('close', resolve));

		await chatty.waitFor('peerLeft', (d) => d.peerId === silent.peerId);
		await closed;
		t.is(server.health().peers, 1, 'the peer that sent heartbeats stayed');

		// The last peer leaves: the room closes after ROOM_IDLE_TIMEOUT.
		await chatty.roomRequest('leaveRoom');
		t.is(server.rooms.roomCount, 1, 'an empty room lives until the idle timeout');
		await waitFor(() => server.rooms.roomCount === 0, { what: 'the idle room to close', timeout: 10_000, interval: 20 });
		t.is(await errorCodeOf(chatty.request('joinRoom', { roomId: silent.roomId })), 404);
	});
}
