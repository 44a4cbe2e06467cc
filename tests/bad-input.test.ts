// Hostile and malformed input: each gets a documented error (or a close with
// a reason), and afterwards the server, the other peers and the other room
// still work.

import test from 'ava';
import { aliceAndBob, errorCodeOf, TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { RawClient } from './helpers/raw.js';
import { startServer } from './helpers/server.js';

const { kinds } = await availableListeners();

for (const listener of kinds) {
	test.serial(`[${listener}] bad input gets documented errors and disturbs nothing`, async (t) => {
		const { server, url } = await startServer({ listener, maxMessageBytes: 16384, maxConnectionsPerIp: 100 });

		t.teardown(() => server.close());

		// A bystander room that must be untouched by everything below.
		const { alice, bob } = await aliceAndBob(t, url, { media: true });

		const aliceProducer = await alice.produce('audio', { source: 'mic' });

		await bob.consume(aliceProducer.id);

		async function bystandersFine(): Promise<void> {
			t.is((await alice.roomRequest('getRoomInfo')).peerCount, 2);
			t.truthy((await bob.request('heartbeat')).serverTime);
			t.is(server.health().status, 'healthy');
		}

		const raw = await RawClient.open(url);

		t.teardown(() => raw.ws.terminate());

		// unknown method
		let response = await raw.request('fly', {});

		t.is(response.errorCode, 405);
		t.regex(response.errorReason, /unknown method fly/);

		// missing and wrongly typed fields
		t.is((await raw.request('joinRoom', {})).errorCode, 400);
		t.is((await raw.request('joinRoom', { roomId: 42 })).errorCode, 400);
		t.is((await raw.request('createRoom', { metadata: 'not an object' })).errorCode, 400);
		t.is((await raw.request('createRoom', { metadata: { blob: 'x'.repeat(5000) } })).errorCode, 400, 'metadata over 4 KiB');
		response = await raw.request('createWebRtcTransport', { roomId: alice.roomId, direction: 'sideways' });
		t.is(response.errorCode, 400);
		t.regex(response.errorReason, /direction/);
		t.is((await raw.request('joinRoom', null)).errorCode, 400);
		await bystandersFine();

		// requests out of order: media before joining
		t.is((await raw.request('produce', { roomId: alice.roomId, transportId: 'x', kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, payloadType: 100 }] } })).errorCode, 409);
		t.is((await raw.request('getRouterRtpCapabilities', { roomId: alice.roomId })).errorCode, 409);
		t.is((await raw.request('joinRoom', { roomId: 'nosuchroom' })).errorCode, 404);

		// Mallory joins her own room and reaches for alice's objects.
		const mallory = await TestPeer.connect(url);

		t.teardown(() => mallory.close());
		await mallory.create();
		await mallory.setupMedia();
		t.is(await errorCodeOf(mallory.request('getRoomInfo', { roomId: alice.roomId })), 403, "another room's id");
		t.is(await errorCodeOf(mallory.roomRequest('closeProducer', { producerId: aliceProducer.id })), 404, "another room's producer is not even found");
		t.is(await errorCodeOf(mallory.roomRequest('connectWebRtcTransport', { transportId: alice.sendTransport!.id, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] } })), 404);
		t.is(await errorCodeOf(mallory.roomRequest('consume', { producerId: aliceProducer.id, rtpCapabilities: mallory.device.rtpCapabilities })), 404);
		t.is(await errorCodeOf(mallory.request('joinRoom', { roomId: alice.roomId })), 409, 'already in a room');
		t.is(await errorCodeOf(mallory.request('createRoom', {})), 409);

		// Bob reaches for alice's objects inside the same room.
		t.is(await errorCodeOf(bob.roomRequest('closeProducer', { producerId: aliceProducer.id })), 403);
		t.is(await errorCodeOf(bob.roomRequest('restartIce', { transportId: alice.sendTransport!.id })), 403);
		const [bobConsumer] = bob.consumers.values();

		t.is(await errorCodeOf(alice.roomRequest('closeConsumer', { consumerId: bobConsumer!.id })), 403);
		t.is(await errorCodeOf(mallory.roomRequest('closeConsumer', { consumerId: bobConsumer!.id })), 404);
		t.is(await errorCodeOf(bob.roomRequest('consume', { producerId: 'no-such-producer', rtpCapabilities: bob.device.rtpCapabilities })), 404);

		// mediasoup refuses nonsense media parameters: MEDIA_ERROR, nothing leaks
		const before = server.health().media;

		t.is(await errorCodeOf(mallory.roomRequest('produce', { transportId: mallory.sendTransport!.id, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/NOPE', clockRate: 90000, payloadType: 101 }], encodings: [{ ssrc: 1 }] } })), 488);
		t.is(await errorCodeOf(mallory.roomRequest('produce', { transportId: mallory.recvTransport!.id, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, payloadType: 100 }] } })), 409, 'produce on a recv transport');
		t.is(await errorCodeOf(mallory.roomRequest('consume', { producerId: aliceProducer.id, rtpCapabilities: { codecs: [] } })), 404);
		t.deepEqual(server.health().media, before);
		await bystandersFine();

		// valid JSON that is not protoo: an error notification, the socket stays
		raw.ws.send(JSON.stringify({ hello: 'world' }));
		t.is((await raw.next((m) => m.notification && m.method === 'error')).data.code, 400);
		raw.ws.send(JSON.stringify({ response: true, id: 1, ok: true, data: {} }));
		t.is((await raw.request('heartbeat', {})).ok, true, 'still usable after non-protoo messages');

		// unparseable frame: closed with 4000 and a reason
		raw.ws.send('{not json');
		t.deepEqual(await raw.closed, { code: 4000, reason: 'invalid JSON' });

		// a frame over MAX_MESSAGE_BYTES closes that socket only
		const big = await RawClient.open(url);

		big.ws.send(JSON.stringify({ request: true, id: 1, method: 'heartbeat', data: { pad: 'x'.repeat(20000) } }));
		t.not((await big.closed).code, 1000);

		// a binary frame is refused
		const binary = await RawClient.open(url);

		binary.ws.send(Buffer.from([1, 2, 3]));
		t.is((await binary.closed).code, 4000);

		// a burst of garbage from many sockets
		const burst = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(url)));

		for (const client of burst) client.ws.send('\u0000\u0001garbage');
		for (const client of burst) t.is((await client.closed).code, 4000);

		await bystandersFine();
		t.is(await errorCodeOf(bob.untypedRequest('fly', { roomId: bob.roomId })), 405);
		t.deepEqual(await bob.roomRequest('pauseConsumer', { consumerId: [...bob.consumers.keys()][0] }), { success: true });
	});
}
