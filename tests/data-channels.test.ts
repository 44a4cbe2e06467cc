// Data channels through the real server and worker: produceData, consumeData,
// closeDataProducer and their notifications with mediasoup-client on
// FakeHandler (signaling only: no SCTP messages flow in Node), the limits,
// bad input, the reconnect grace; and the per-producer message rate limit on
// a real router, fed by a DirectTransport data producer.

import test from 'ava';
import * as mediasoup from 'mediasoup';
import { ErrorCode } from '../lib/protocol/errors.js';
import { DataRateLimit } from '../lib/rooms/DataRateLimit.js';
import { aliceAndBob, errorCodeOf } from './helpers/client.js';
import { waitFor } from './helpers/wait.js';
import { startServer } from './helpers/server.js';

const NO_MEDIA = { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };

test.serial('data producers are announced, consumed, listed, limited and closed', async (t) => {
	const { server, url } = await startServer({ maxDataMessageBytes: 8192 });

	t.teardown(() => server.close());

	const { alice, bob } = await aliceAndBob(t, url, { named: true });
	t.is((await bob.roomRequest('createWebRtcTransport', { direction: 'recv' })).sctpParameters?.maxMessageSize, 8192, 'MAX_DATA_MESSAGE_BYTES is the SCTP maxMessageSize');
	await alice.setupMedia();
	await bob.setupMedia();

	const chat = await alice.produceData('chat', { purpose: 'chat' });
	const announced = await bob.waitFor('newDataProducer');

	t.deepEqual(announced.data, { dataProducerId: chat.id, peerId: alice.peerId, label: 'chat', protocol: '', metadata: { purpose: 'chat' } });

	const consumer = await bob.consumeData(chat.id);

	t.is(consumer.dataProducerId, chat.id);
	t.is(consumer.label, 'chat');
	t.like(server.health().media, { dataProducers: 1, dataConsumers: 1 });

	const info = await bob.roomRequest('getRoomInfo');

	t.deepEqual(info.peers.find((p) => p.peerId === alice.peerId)?.dataProducers, [announced.data]);

	// Limits and bad input.
	for (let i = 1; i < 4; i++) await alice.produceData(`extra-${i}`);
	t.is(await errorCodeOf(alice.produceData('one-too-many')), ErrorCode.INVALID_STATE, 'at most 4 data producers per peer');
	t.is(await errorCodeOf(bob.roomRequest('produceData', { transportId: bob.recvTransport!.id, sctpStreamParameters: { streamId: 1 } })), ErrorCode.INVALID_STATE, 'not on a recv transport');
	t.is(await errorCodeOf(bob.untypedRequest('produceData', { roomId: bob.roomId, transportId: bob.sendTransport!.id, sctpStreamParameters: { streamId: -1 } })), ErrorCode.BAD_REQUEST);
	t.is(await errorCodeOf(bob.untypedRequest('produceData', { roomId: bob.roomId, transportId: bob.sendTransport!.id, label: 'x'.repeat(300), sctpStreamParameters: { streamId: 1 } })), ErrorCode.BAD_REQUEST);
	t.is(await errorCodeOf(bob.roomRequest('consumeData', { dataProducerId: 'no-such-data-producer' })), ErrorCode.NOT_FOUND);
	t.is(await errorCodeOf(bob.roomRequest('closeDataProducer', { dataProducerId: chat.id })), ErrorCode.FORBIDDEN, "another peer's data producer");

	// Closing it closes its consumers and tells the others.
	t.deepEqual(await alice.roomRequest('closeDataProducer', { dataProducerId: chat.id }), { success: true });
	t.deepEqual((await bob.waitFor('dataProducerClosed')).data, { dataProducerId: chat.id, peerId: alice.peerId });
	await waitFor(() => server.health().media.dataConsumers === 0, { what: "bob's data consumer closed with the producer", interval: 20 });
	t.is(await errorCodeOf(alice.roomRequest('closeDataProducer', { dataProducerId: chat.id })), ErrorCode.NOT_FOUND);

	// Leaving tells the others about every data producer and frees everything.
	await alice.roomRequest('leaveRoom');
	await bob.waitFor('peerLeft');
	t.is(bob.count('dataProducerClosed'), 4);
	await bob.roomRequest('leaveRoom');
	t.deepEqual(server.health().media, NO_MEDIA);
});

test.serial('the reconnect grace keeps data producers and consumers; rejoinRoom lists them', async (t) => {
	const { server, url } = await startServer({ reconnectGrace: 30 });

	t.teardown(() => server.close());

	const { alice, bob } = await aliceAndBob(t, url, { media: true, aliceRetries: 5 });

	const aliceChat = await alice.produceData('chat');
	const bobChat = await bob.produceData('chat');
	const aliceListens = await alice.consumeData(bobChat.id);

	// A drop as the network would do it: protoo-client reconnects by itself.
	const reopened = new Promise<void>((resolve) => alice.protoo.once('open', resolve));

	alice.dropSocket();
	await reopened;

	const rejoined = await alice.request('rejoinRoom', { roomId: alice.roomId, peerId: alice.peerId, reconnectToken: alice.reconnectToken });

	t.deepEqual(rejoined.dataProducers.map((d) => d.dataProducerId), [aliceChat.id]);
	t.deepEqual(rejoined.dataConsumers, [{ dataConsumerId: aliceListens.id, dataProducerId: bobChat.id }]);
	t.deepEqual(rejoined.peers[0]?.dataProducers.map((d) => d.dataProducerId), [bobChat.id]);
	t.is(bob.count('dataProducerClosed'), 0, 'bob never heard alice\'s channel close');
	t.like(server.health().media, { dataProducers: 2, dataConsumers: 1 });
});

test.serial('a data producer over DATA_MESSAGES_PER_SECOND is paused for the rest of the second, then resumed', async (t) => {
	const worker = await mediasoup.createWorker({ logLevel: 'error' });

	t.teardown(() => worker.close());

	const router = await worker.createRouter({});
	const transport = await router.createDirectTransport();
	const dataProducer = await transport.produceData({ label: 'chat' });
	const received: string[] = [];
	const listener = await transport.consumeData({ dataProducerId: dataProducer.id });

	listener.on('message', (message) => received.push(message.toString()));

	const limit = new DataRateLimit(router, 10);
	let limited = 0;

	await limit.watch(dataProducer, () => limited++);
	for (let i = 0; i < 11; i++) dataProducer.send(`burst-${i}`);
	await waitFor(() => dataProducer.paused, { what: 'the 11th message in a second paused the producer', interval: 20 });
	t.is(limited, 1, 'the owner is told once per window');
	for (let i = 0; i < 5; i++) dataProducer.send(`paused-${i}`);
	await waitFor(() => !dataProducer.paused, { what: 'it is resumed when the second is over', timeout: 3000, interval: 20 });
	dataProducer.send('after');
	// Messages keep their order: had the paused ones gone through, they would be in before 'after'.
	await waitFor(() => received.includes('after'), { what: 'messages flow again', interval: 20 });
	t.is(received.filter((m) => m.startsWith('burst-')).length, 11, 'what came before the pause was delivered');
	t.deepEqual(received.filter((m) => m.startsWith('paused-')), [], 'the worker dropped what came while paused');
});
