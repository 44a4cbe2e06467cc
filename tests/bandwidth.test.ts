// Simulcast, the downlink budget and the client's control of its consumers,
// through the real server and worker with mediasoup-client on FakeHandler
// (signaling only: no RTP flows, so layer costs are the encodings' maxBitrate
// and nobody speaks). The figures with real media are the E2E tests'.

import test from 'ava';
import type { types as mc } from 'mediasoup-client';
import type * as ms from 'mediasoup/types';
import { ErrorCode } from '../lib/protocol/errors.js';
import { Throttle } from '../lib/rooms/Throttle.js';
import type { Server } from '../server/Server.js';
import { errorCodeOf, TestPeer } from './helpers/client.js';
import { startServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** 100, 300 and 900 kbit/s layers: what the budget counts until stats say otherwise. */
const SIMULCAST: mc.RtpEncodingParameters[] = [
	{ maxBitrate: 100_000, scaleResolutionDownBy: 4, scalabilityMode: 'L1T3' },
	{ maxBitrate: 300_000, scaleResolutionDownBy: 2, scalabilityMode: 'L1T3' },
	{ maxBitrate: 900_000, scalabilityMode: 'L1T3' }
];
const LAYER_COST = [100_000, 300_000, 900_000];

/** The server's own consumer (its preferredLayers and priority are what the budget set). */
function serverConsumer(server: Server, consumerId: string): ms.Consumer {
	for (const room of server.rooms.rooms) for (const peer of room.peers) {
		const consumer = peer.consumers.get(consumerId);

		if (consumer) return consumer;
	}

	throw new Error(`no consumer ${consumerId} on the server`);
}

async function room(url: string, names: string[]): Promise<TestPeer[]> {
	const peers = await Promise.all(names.map(() => TestPeer.connect(url)));

	await peers[0]!.create({ displayName: names[0] });
	for (const [i, peer] of peers.entries()) if (i > 0) await peer.join(peers[0]!.roomId, { displayName: names[i] });
	for (const peer of peers) await peer.setupMedia();

	return peers;
}

test.serial('simulcast and SVC consumers are layered; the budget keeps the planned layers within MAX_DOWNLINK_BITRATE and follows the client', async (t) => {
	const { server, url } = await startServer({ maxDownlinkBitrate: 400_000 });

	t.teardown(() => server.close());

	const [alice, bob, carol] = await room(url, ['alice', 'bob', 'carol']);

	t.teardown(() => [alice, bob, carol].forEach((p) => p!.close()));

	const aliceCam = await alice!.produce('video', { source: 'camera' }, SIMULCAST);
	const bobCam = await bob!.produce('video', { source: 'camera' }, SIMULCAST);
	const bobSvc = await bob!.produce('video', { source: 'svc-camera' }, [{ scalabilityMode: 'L1T3', maxBitrate: 300_000 }]);
	const aliceMic = await alice!.produce('audio', { source: 'mic' });
	const single = await alice!.produce('video', { source: 'single' });

	const types = await Promise.all([aliceCam, bobCam, bobSvc, aliceMic, single].map((p) => carol!.roomRequest('consume', { producerId: p.id, rtpCapabilities: carol!.device.rtpCapabilities })));

	t.deepEqual(types.map((c) => c.type), ['simulcast', 'simulcast', 'svc', 'simple', 'simple']);
	t.is(types[0]!.rtpParameters.encodings?.[0]?.scalabilityMode, 'L3T3', 'the consumer sees one stream of 3 spatial x 3 temporal layers');
	for (const consumer of types.slice(2)) await carol!.roomRequest('closeConsumer', { consumerId: consumer.consumerId });
	for (const consumer of types.slice(0, 2)) await carol!.roomRequest('resumeConsumer', { consumerId: consumer.consumerId });

	const [a, b] = types.slice(0, 2).map((c) => serverConsumer(server, c.consumerId));
	const spatial = (consumer: ms.Consumer | undefined) => consumer?.preferredLayers?.spatialLayer ?? -1;
	const planned = () => LAYER_COST[spatial(a)]! + LAYER_COST[spatial(b)]!;

	// Lowest layers first (200k), then one of them raised while budget remains (+200k = 400k).
	await waitFor(() => spatial(a) + spatial(b) === 1, { what: 'one camera raised to the middle layer' });
	t.true(planned() <= 400_000, `planned ${planned()} bit/s within the 400 kbit/s budget`);
	t.is(a!.preferredLayers?.temporalLayer, 2, 'all temporal layers of the chosen spatial layer');

	// The client asks the raised one down: the budget gives the freed bits to the other (after its 2 s hysteresis).
	const [raised, other] = spatial(a) === 1 ? [a!, b!] : [b!, a!];

	t.deepEqual(await carol!.roomRequest('setConsumerPreferredLayers', { consumerId: raised.id, spatialLayer: 0, temporalLayer: 1 }), { success: true });
	t.deepEqual(raised.preferredLayers, { spatialLayer: 0, temporalLayer: 1 });
	await waitFor(() => spatial(other) === 1, { what: 'the freed budget to go to the other camera' });
	t.true(planned() <= 400_000);

	// The client's priority replaces the policy's.
	t.deepEqual(await carol!.roomRequest('setConsumerPriority', { consumerId: raised.id, priority: 42 }), { success: true });
	t.is(raised.priority, 42);
	t.deepEqual(await carol!.roomRequest('requestConsumerKeyFrame', { consumerId: raised.id }), { success: true });

	// Stats of the caller's own objects.
	const transportStats = await carol!.roomRequest('getTransportStats', { transportId: carol!.recvTransport!.id });

	t.is(transportStats.stats[0]?.type, 'webrtc-transport');
	t.is((await carol!.roomRequest('getConsumerStats', { consumerId: raised.id })).stats[0]?.type, 'outbound-rtp');
	t.true(Array.isArray((await alice!.roomRequest('getProducerStats', { producerId: aliceCam.id })).stats));
});

test.serial('the new requests answer bad input with documented codes and lose nothing', async (t) => {
	const { server, url } = await startServer();

	t.teardown(() => server.close());

	const [alice, bob] = await room(url, ['alice', 'bob']);
	const [eve] = await room(url, ['eve']);

	t.teardown(() => [alice, bob, eve].forEach((p) => p!.close()));

	const cam = await alice!.produce('video', { source: 'camera' }, SIMULCAST);
	const mic = await alice!.produce('audio', { source: 'mic' });
	const single = await alice!.produce('video', { source: 'single' });
	const camConsumer = await bob!.consume(cam.id);
	const micConsumer = await bob!.consume(mic.id);
	const singleConsumer = await bob!.consume(single.id);
	const eveCam = await eve!.produce('video', { source: 'camera' }, SIMULCAST);
	const before = server.health().media;
	const code = (peer: TestPeer, method: string, data: Record<string, unknown>) => errorCodeOf(peer.untypedRequest(method, { roomId: peer.roomId, ...data }));

	// Shape: 400.
	for (const [method, data] of [
		['setConsumerPreferredLayers', { consumerId: camConsumer.id }],
		['setConsumerPreferredLayers', { consumerId: camConsumer.id, spatialLayer: -1 }],
		['setConsumerPreferredLayers', { consumerId: camConsumer.id, spatialLayer: 1.5 }],
		['setConsumerPreferredLayers', { consumerId: camConsumer.id, spatialLayer: 0, temporalLayer: 99 }],
		['setConsumerPriority', { consumerId: camConsumer.id, priority: 0 }],
		['setConsumerPriority', { consumerId: camConsumer.id, priority: 256 }],
		['setConsumerPriority', { consumerId: camConsumer.id, priority: '1' }],
		['requestConsumerKeyFrame', {}],
		['getTransportStats', { transportId: 7 }],
		['getProducerStats', { producerId: '' }],
		['getConsumerStats', { consumerId: 'x'.repeat(65) }]
	] as const)
		t.is(await code(bob!, method, data), ErrorCode.BAD_REQUEST, `${method} ${JSON.stringify(data)}`);

	// Unknown ids: 404; another peer's: 403; another room's (asked in our room): 404; another room named: 403.
	const consumerMethods = ['setConsumerPreferredLayers', 'setConsumerPriority', 'requestConsumerKeyFrame', 'getConsumerStats'] as const;
	const extra = { spatialLayer: 0, priority: 1 };

	for (const method of consumerMethods) {
		t.is(await code(bob!, method, { consumerId: 'no-such-consumer', ...extra }), ErrorCode.NOT_FOUND, method);
		t.is(await code(alice!, method, { consumerId: camConsumer.id, ...extra }), ErrorCode.FORBIDDEN, `${method}: bob's consumer`);
		t.is(await code(eve!, method, { consumerId: camConsumer.id, ...extra }), ErrorCode.NOT_FOUND, `${method}: a consumer of another room`);
		t.is(await code(eve!, method, { roomId: bob!.roomId, consumerId: camConsumer.id, ...extra }), ErrorCode.FORBIDDEN, `${method}: another room`);
	}
	t.is(await code(bob!, 'getProducerStats', { producerId: cam.id }), ErrorCode.FORBIDDEN, "alice's producer");
	t.is(await code(bob!, 'getProducerStats', { producerId: eveCam.id }), ErrorCode.NOT_FOUND, 'a producer of another room');
	t.is(await code(alice!, 'getTransportStats', { transportId: bob!.recvTransport!.id }), ErrorCode.FORBIDDEN, "bob's transport");
	t.is(await code(eve!, 'getTransportStats', { transportId: bob!.recvTransport!.id }), ErrorCode.NOT_FOUND, 'a transport of another room');

	// Consumers without layers: 409.
	t.is(await code(bob!, 'setConsumerPreferredLayers', { consumerId: micConsumer.id, spatialLayer: 0 }), ErrorCode.INVALID_STATE, 'audio has no layers');
	t.is(await code(bob!, 'setConsumerPreferredLayers', { consumerId: singleConsumer.id, spatialLayer: 0 }), ErrorCode.INVALID_STATE, 'a single stream has no layers');
	t.is(await code(bob!, 'requestConsumerKeyFrame', { consumerId: micConsumer.id }), ErrorCode.INVALID_STATE, 'audio has no keyframes');

	// Nothing made, nothing lost, both rooms still work.
	t.deepEqual(server.health().media, before);
	t.deepEqual(await bob!.roomRequest('setConsumerPreferredLayers', { consumerId: camConsumer.id, spatialLayer: 2 }), { success: true });
	t.is((await eve!.roomRequest('getProducerStats', { producerId: eveCam.id })).stats.length, 0, 'no RTP has arrived: no streams yet');
});

test('Throttle sends the first value at once and only the latest of a burst after the interval', async (t) => {
	const sent: [string, number][] = [];
	const throttle = new Throttle<number>(200, (key, value) => sent.push([key, value]));

	t.teardown(() => throttle.close());
	for (let i = 1; i <= 10; i++) throttle.push('a', i);
	throttle.push('b', 1);
	t.deepEqual(sent, [['a', 1], ['b', 1]]);
	await waitFor(() => sent.length === 3, { what: 'the burst to collapse into one', interval: 20 });
	t.deepEqual(sent[2], ['a', 10]);
	throttle.push('b', 2);
	throttle.push('b', 3);
	t.deepEqual(sent.slice(3), [['b', 2]], "an interval after b's first value: sent at once; the next one held back");
	throttle.delete('b');
	throttle.push('b', 4);
	t.deepEqual(sent.slice(3), [['b', 2], ['b', 4]], 'a deleted key starts afresh: the held value is gone');
});

test.serial('/metrics (ops listener) has the downlink bitrate histogram, consumer scores and layer switches per minute', async (t) => {
	const { server, url, opsUrl } = await startServer();

	t.teardown(() => server.close());

	const [alice, bob] = await room(url, ['alice', 'bob']);

	t.teardown(() => [alice, bob].forEach((p) => p!.close()));
	await bob!.consume((await alice!.produce('video', { source: 'camera' }, SIMULCAST)).id);

	const text = await (await fetch(`${opsUrl}/metrics`)).text();

	t.regex(text, /^vcall_peer_downlink_bitrate_bits_count 2$/m, 'one observation per receiving peer');
	t.regex(text, /^vcall_consumer_score_count 1$/m, 'one per video consumer');
	t.regex(text, /^vcall_consumer_layer_switches_per_minute 0$/m, 'no RTP, no layer changes');
});
