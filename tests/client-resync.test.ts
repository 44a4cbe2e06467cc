// The browser client's call logic (lib/client/call.ts, media.ts, resync.ts)
// run in Node against the real server: protoo-client over WebSocket-Node,
// mediasoup-client on FakeHandler, fake capture tracks. A loopback proxy
// drops the client's connection as a network failure would, so each test
// makes the server and the client disagree the way a real drop can, and
// checks that the resync after rejoinRoom makes them agree again.

import test, { type ExecutionContext } from 'ava';
import protooClient from 'protoo-client';
import { Call, type CallOptions } from '../lib/client/call.js';
import { planResync } from '../lib/client/resync.js';
import type { Room } from '../lib/rooms/Room.js';
import { fakeDevice, TestPeer } from './helpers/client.js';
import { CALL_OPTIONS, nodeCall } from './helpers/node-call.js';
import { waitFor } from './helpers/wait.js';
import { SocketProxy } from './helpers/proxy.js';
import { startServer } from './helpers/server.js';

async function setup(t: ExecutionContext, options: Partial<CallOptions> = {}) {
	const { server, url } = await startServer({ reconnectGrace: 30 });

	t.teardown(() => server.close());

	const proxy = await SocketProxy.start(server.address.port);

	t.teardown(() => proxy.close());

	const alice = nodeCall(proxy.url, options);

	t.teardown(() => alice.leave());
	await alice.start();

	const bob = await TestPeer.connect(url);

	t.teardown(() => bob.close());
	await bob.join(alice.roomId!, { displayName: 'bob' });
	await bob.setupMedia();

	const room = (): Room => {
		const found = [...server.rooms.rooms].find((r) => r.id === alice.roomId);

		if (!found) throw new Error('no room');

		return found;
	};
	const serverAlice = () => {
		const peer = [...room().peers].find((p) => p.id === alice.peerId);

		if (!peer) throw new Error('alice is not on the server');

		return peer;
	};

	/** Drops alice's connection and waits until she has noticed. */
	const drop = async (cut: Promise<void> | undefined = undefined): Promise<void> => {
		if (cut) await cut;
		else proxy.block();
		await waitFor(() => alice.state().connection === 'disconnected', { what: 'alice saw the drop', interval: 20 });
	};
	/** Lets alice reconnect and waits until the resync after her rejoinRoom is done. */
	const reconnect = async (): Promise<void> => {
		const rejoins = alice.state().rejoins;

		proxy.unblock();
		await waitFor(() => alice.state().rejoins === rejoins + 1 && alice.phase === 'joined', { what: 'alice rejoined and resynced', interval: 20 });
	};
	/** Alice's consumers, producers and transports as she sees them and as the server does. */
	const sides = () => {
		const state = alice.state();
		const peer = serverAlice();

		return {
			client: {
				consumers: state.consumers.map((c) => c.consumerId).sort(),
				producers: state.producers.map((p) => p.producerId).sort(),
				transports: state.transports.map((tr) => tr.id).sort()
			},
			server: {
				consumers: [...peer.consumers.keys()].sort(),
				producers: [...peer.producers.keys()].sort(),
				transports: [...peer.transports.keys()].sort()
			}
		};
	};
	const agree = () => {
		const { client, server } = sides();

		return JSON.stringify(client) === JSON.stringify(server);
	};

	return { server, proxy, alice, bob, room, serverAlice, drop, reconnect, sides, agree };
}

test('planResync: what each side lacks after a drop', (t) => {
	const plan = planResync(
		{
			transports: [
				{ transportId: 'send-1', direction: 'send' },
				{ transportId: 'recv-1', direction: 'recv' }
			],
			producers: [{ producerId: 'mic-1' }],
			consumers: [{ consumerId: 'c-kept' }, { consumerId: 'c-closed' }],
			dataProducers: [{ dataProducerId: 'chat-1' }],
			dataConsumers: [{ dataConsumerId: 'dc-kept' }, { dataConsumerId: 'dc-closed' }],
			peers: ['bob', 'carol']
		},
		{
			roomId: 'r',
			peerId: 'alice',
			reconnectToken: 'next',
			peers: [{ peerId: 'bob', metadata: {}, producers: [], dataProducers: [] }],
			producers: [],
			transports: [
				{ transportId: 'send-2', direction: 'send' },
				{ transportId: 'recv-1', direction: 'recv' }
			],
			consumers: [
				{ consumerId: 'c-kept', producerId: 'p1' },
				{ consumerId: 'c-orphan', producerId: 'p2' }
			],
			dataProducers: [],
			dataConsumers: [{ dataConsumerId: 'dc-kept', dataProducerId: 'bob-chat' }]
		}
	);

	t.deepEqual(plan, {
		removePeers: ['carol'],
		peers: [{ peerId: 'bob', metadata: {}, producers: [], dataProducers: [] }],
		closeLocalConsumers: ['c-closed'],
		closeServerConsumers: ['c-orphan'],
		resumeConsumers: ['c-kept'],
		// The send transport is replaced: whatever the server holds on it goes with it.
		closeServerProducers: [],
		lostProducers: ['mic-1'],
		closeLocalDataConsumers: ['dc-closed'],
		lostDataProducers: ['chat-1'],
		restartIce: ['recv'],
		replaceTransports: ['send']
	});
});

test.serial('a consume whose answer was lost in the drop: the server closes the consumer the client never knew', async (t) => {
	const { alice, bob, proxy, serverAlice, drop, reconnect, sides, agree } = await setup(t, { audio: false, video: false });

	await bob.produce('audio', { source: 'mic' });
	await waitFor(() => alice.state().consumers.length === 1, { what: 'alice consumes bob\'s microphone', interval: 20 });

	// The client asks for its consumers with consumeMany.
	const cut = proxy.blockAfterRequest('consumeMany');
	const camera = await bob.produce('video', { source: 'camera' });

	await drop(cut);
	await waitFor(() => serverAlice().consumers.size === 2, { what: 'the server made the consumer whose answer was lost', interval: 20 });

	const known = new Set(alice.state().consumers.map((c) => c.consumerId));
	const orphan = [...serverAlice().consumers.keys()].find((id) => !known.has(id));

	t.is(known.size, 1, 'the client never heard of the second consumer');
	t.truthy(orphan);

	await reconnect();
	await waitFor(() => agree() && sides().client.consumers.length === 2, { what: 'client and server hold the same two consumers', interval: 20 });
	t.false(serverAlice().consumers.has(orphan!), 'the orphan was closed');
	t.true(alice.state().events.some((e) => e.type === 'closeOrphan' && (e.data as { id: string }).id === orphan));
	t.true(alice.state().consumers.some((c) => c.producerId === camera.id && c.trackState === 'live'), 'the camera is consumed afresh');
	t.is(bob.count('peerLeft'), 0, 'bob never saw alice leave');
});

test.serial('a producer closed during the drop: the client closes its consumer', async (t) => {
	const { alice, bob, serverAlice, drop, reconnect, sides, agree } = await setup(t, { audio: false, video: false });
	const mic = await bob.produce('audio', { source: 'mic' });
	const camera = await bob.produce('video', { source: 'camera' });

	await waitFor(() => alice.state().consumers.length === 2, { what: 'alice consumes both of bob\'s producers', interval: 20 });

	const micConsumer = alice.state().consumers.find((c) => c.producerId === mic.id)!.consumerId;

	await drop();
	await bob.roomRequest('closeProducer', { producerId: mic.id });
	await waitFor(() => serverAlice().consumers.size === 1, { what: "the server closed alice's consumer with the producer", interval: 20 });
	t.is(alice.state().consumers.length, 2, 'alice, cut off, did not hear of it');

	await reconnect();
	await waitFor(() => agree() && sides().client.consumers.length === 1, { what: 'client and server hold the one consumer left', interval: 20 });
	t.deepEqual(alice.state().consumers.map((c) => c.producerId), [camera.id]);
	t.like(alice.state().closedConsumers.find((c) => c.consumerId === micConsumer), { reason: 'gone after rejoin', trackState: 'ended' });
	t.deepEqual(alice.state().peers.find((p) => p.peerId === bob.peerId)?.producers.map((p) => p.producerId), [camera.id]);
});

test.serial('a transport replaced on the server during the drop: the client makes a new one and produces again', async (t) => {
	const { alice, bob, room, serverAlice, drop, reconnect, sides, agree } = await setup(t);
	const sendBefore = alice.transport('send')!.id;
	const producersBefore = alice.state().producers.map((p) => p.producerId);

	t.is(producersBefore.length, 2);
	await drop();
	// As if a createWebRtcTransport of alice's reached the server and its answer was lost:
	// the server replaces her send transport, closing the producers on it.
	await room().handle(serverAlice(), { method: 'createWebRtcTransport', data: { roomId: alice.roomId!, direction: 'send', forceTcp: false } });
	await waitFor(() => bob.count('producerClosed', (d) => d.peerId === alice.peerId) === 2, { what: "bob heard alice's producers close", interval: 20 });

	await reconnect();
	await waitFor(() => agree() && sides().client.producers.length === 2, { what: 'client and server hold the same transports and producers', interval: 20 });

	const after = sides().client;

	t.false(after.transports.includes(sendBefore), 'the lost send transport is gone on both sides');
	t.is(after.transports.length, 2);
	t.false(after.producers.some((id) => producersBefore.includes(id)), 'both tracks produced afresh');
	await waitFor(() => bob.count('newProducer', (d) => d.peerId === alice.peerId && after.producers.includes(d.producerId)) === 2, { what: 'bob heard the new producers', interval: 20 });
	t.deepEqual(alice.state().producers.map((p) => p.source).sort(), ['camera', 'mic']);
});

test.serial('mute and camera off pause the producers on the server (the others are told); camera off stops the track and camera on captures a new one into the same producer', async (t) => {
	const { alice, bob, serverAlice } = await setup(t);
	const producer = (source: string) => alice.state().producers.find((p) => p.source === source)!;
	const mic = producer('mic').producerId;
	const camera = producer('camera').producerId;

	await alice.setSourceEnabled('mic', false);
	t.true(serverAlice().producers.get(mic)!.paused, 'the server paused the mic producer');
	t.true(producer('mic').paused);
	t.false(alice.state().sending.mic);
	await waitFor(() => bob.count('producerPaused', (d) => d.producerId === mic) === 1, { what: 'bob told of the mute', interval: 20 });

	await alice.setSourceEnabled('camera', false);
	t.true(serverAlice().producers.get(camera)!.paused);
	t.is(producer('camera').trackState, 'ended', 'the camera is released');

	await alice.setSourceEnabled('camera', true);
	await alice.setSourceEnabled('mic', true);
	t.is(producer('camera').producerId, camera, 'the same producer');
	t.is(producer('camera').trackState, 'live', 'with a new camera track');
	t.false(serverAlice().producers.get(camera)!.paused);
	t.false(serverAlice().producers.get(mic)!.paused);
	t.deepEqual(alice.state().sending, { mic: true, camera: true });
	await waitFor(() => bob.count('producerResumed', (d) => d.producerId === mic || d.producerId === camera) === 2, { what: 'bob told of both', interval: 20 });
	t.is(alice.state().producers.length, 2, 'nothing produced twice');
});

test.serial('a source turned off before joining is captured only when turned on; a muted producer lost in a drop comes back paused', async (t) => {
	const { alice, bob, room, serverAlice, drop, reconnect, agree, sides } = await setup(t, { video: false });

	t.deepEqual(alice.state().producers.map((p) => p.source), ['mic'], 'joined with the camera off: no camera captured');
	await alice.setSourceEnabled('camera', true);
	t.deepEqual(alice.state().producers.map((p) => p.source).sort(), ['camera', 'mic'], 'camera on: captured and produced');
	await alice.setSourceEnabled('mic', false);

	await drop();
	await room().handle(serverAlice(), { method: 'createWebRtcTransport', data: { roomId: alice.roomId!, direction: 'send', forceTcp: false } });
	await waitFor(() => bob.count('producerClosed', (d) => d.peerId === alice.peerId) === 2, { what: "bob heard alice's producers close", interval: 20 });
	await reconnect();
	await waitFor(() => agree() && sides().client.producers.length === 2, { what: 'alice produced both again', interval: 20 });

	const mic = alice.state().producers.find((p) => p.source === 'mic')!;

	// Produced, then paused at once: the pause is the next request.
	await waitFor(() => serverAlice().producers.get(mic.producerId)?.paused, { what: 'the new mic producer paused: still muted', interval: 20 });
	await waitFor(() => bob.count('producerPaused', (d) => d.producerId === mic.producerId) === 1, { what: 'bob told it is muted', interval: 20 });
	t.true(mic.paused);
	t.false(alice.state().sending.mic);
});

test.serial('a producer made while the joiner still sets up its transports is consumed (the join answer does not undo a newer newProducer)', async (t) => {
	const { server, url } = await startServer();

	t.teardown(() => server.close());

	const bob = await TestPeer.connect(url);

	t.teardown(() => bob.close());

	const { roomId } = await bob.create({ displayName: 'bob' });

	await bob.setupMedia();

	let camera: Promise<string> | undefined;
	let newProducerSeen = false;
	const alice = new Call(
		{ ...CALL_OPTIONS, serverUrl: url, room: roomId, audio: false, video: false },
		{
			connect: () => {
				const peer = new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 0 } }));
				const send = peer.request.bind(peer);

				peer.on('notification', (n) => {
					if (n.method === 'newProducer') newProducerSeen = true;
				});
				// Hold alice's first transport request until bob's camera is announced to
				// her: the announcement lands between her join answer and her transports.
				peer.request = async (method, data) => {
					if (method === 'createWebRtcTransport' && !camera) {
						camera = bob.produce('video', { source: 'camera' }).then((p) => p.id);
						await waitFor(() => newProducerSeen, { what: 'newProducer reached alice', interval: 10 });
					}

					return send(method, data);
				};

				return peer;
			},
			device: fakeDevice(),
			capture: async () => new Map()
		}
	);

	t.teardown(() => alice.leave());
	await alice.start();

	const cameraId = await camera!;

	await waitFor(() => alice.state().consumers.some((c) => c.producerId === cameraId), { what: "alice consumes bob's camera", interval: 20 });
	t.deepEqual(alice.state().peers.find((p) => p.peerId === bob.peerId)?.producers.map((p) => p.producerId), [cameraId]);
});
