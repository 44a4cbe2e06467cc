// The short consume flow: audio consumers start unpaused (the answer says
// so), rtpCapabilities are remembered after a peer's first consume, and
// consumeMany consumes several producers in one request, each refusal with
// the code consume would answer. Old clients (capabilities on every
// consume, resumeConsumer for audio too) keep working.

import test from 'ava';
import type * as ms from 'mediasoup/types';
import { errorCodeOf, TestPeer } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { startServer } from './helpers/server.js';
import type { Server } from '../server/Server.js';
import { MAX_CONSUME_MANY } from '../lib/protocol/limits.js';

const { kinds } = await availableListeners();

/** The server's own consumer (mediasoup's object), to see whether it is paused there. */
function serverConsumer(server: Server, consumerId: string): ms.Consumer {
	for (const room of server.rooms.rooms) for (const peer of room.peers) {
		const consumer = peer.consumers.get(consumerId);

		if (consumer) return consumer;
	}
	throw new Error(`no consumer ${consumerId} on the server`);
}

/** A room of alice (audio + video) and bob, both with media set up; mallory in a room of her own. */
async function twoPeers(url: string) {
	const alice = await TestPeer.connect(url);
	const bob = await TestPeer.connect(url);
	const mallory = await TestPeer.connect(url);

	await alice.create();
	await bob.join(alice.roomId);
	await mallory.create();
	for (const peer of [alice, bob, mallory]) await peer.setupMedia();

	const audio = await alice.produce('audio', { source: 'mic' });
	const video = await alice.produce('video', { source: 'camera' });
	const malloryAudio = await mallory.produce('audio', { source: 'mic' });

	return { alice, bob, mallory, audio, video, malloryAudio, close: () => [alice, bob, mallory].forEach((p) => p.close()) };
}

for (const listener of kinds) {
	test.serial(`[${listener}] audio consumers start unpaused, video ones wait for resumeConsumer; the answer says which`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());
		const { alice, bob, audio, video, close } = await twoPeers(url);

		t.teardown(close);

		const audioAnswer = await bob.roomRequest('consume', { producerId: audio.id, rtpCapabilities: bob.device.rtpCapabilities });
		const videoAnswer = await bob.roomRequest('consume', { producerId: video.id });

		t.like(audioAnswer, { kind: 'audio', paused: false, producerPaused: false });
		t.like(videoAnswer, { kind: 'video', paused: true, producerPaused: false });
		t.false(serverConsumer(server, audioAnswer.consumerId).paused);
		t.true(serverConsumer(server, videoAnswer.consumerId).paused);

		// An old client resumes both: still answered, and the video one flows.
		t.deepEqual(await bob.roomRequest('resumeConsumer', { consumerId: audioAnswer.consumerId }), { success: true });
		t.deepEqual(await bob.roomRequest('resumeConsumer', { consumerId: videoAnswer.consumerId }), { success: true });
		t.false(serverConsumer(server, videoAnswer.consumerId).paused);

		// A paused producer: the answer says so, and pause/resume of the consumer still reach mediasoup.
		await alice.roomRequest('pauseProducer', { producerId: audio.id });
		await bob.roomRequest('closeConsumer', { consumerId: audioAnswer.consumerId });
		const again = await bob.roomRequest('consume', { producerId: audio.id });

		t.like(again, { paused: false, producerPaused: true });
		t.deepEqual(await bob.roomRequest('pauseConsumer', { consumerId: again.consumerId }), { success: true });
		t.true(serverConsumer(server, again.consumerId).paused);
	});

	test.serial(`[${listener}] rtpCapabilities are needed until a consume succeeds with them, then remembered`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());
		const { bob, audio, video, close } = await twoPeers(url);

		t.teardown(close);
		const before = server.health().media;

		t.is(await errorCodeOf(bob.roomRequest('consume', { producerId: audio.id })), 400, 'no capabilities yet');
		// Capabilities mediasoup refuses (no codec): MEDIA_ERROR without router.canConsume, nothing made, nothing remembered.
		t.is(await errorCodeOf(bob.roomRequest('consume', { producerId: audio.id, rtpCapabilities: { codecs: [] } })), 488);
		t.deepEqual(server.health().media, before);
		t.is(await errorCodeOf(bob.roomRequest('consume', { producerId: audio.id })), 400, 'refused capabilities are not remembered');

		bob.shortFlow = true;
		await bob.consume(audio.id);
		const videoConsumer = await bob.consume(video.id);

		t.is(bob.consumers.size, 2);
		t.false(serverConsumer(server, videoConsumer.id).paused, 'the short flow resumed the video consumer');
		t.is(server.health().media.consumers, before.consumers + 2);
	});

	test.serial(`[${listener}] consumeMany consumes a batch; bad input, other peers' and unknown producers get documented codes`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());
		const { alice, bob, mallory, audio, video, malloryAudio, close } = await twoPeers(url);

		t.teardown(close);
		const before = server.health().media;

		// Malformed batches: 400, nothing made.
		const badBatches: unknown[] = [
			[],
			[audio.id, audio.id],
			Array.from({ length: MAX_CONSUME_MANY + 1 }, (_, i) => `p${i}`),
			[42],
			audio.id
		];

		for (const producerIds of badBatches)
			t.is(await errorCodeOf(bob.untypedRequest('consumeMany', { roomId: bob.roomId, producerIds, rtpCapabilities: bob.device.rtpCapabilities })), 400, JSON.stringify(producerIds).slice(0, 40));
		t.is(await errorCodeOf(bob.roomRequest('consumeMany', { producerIds: [audio.id] })), 400, 'no capabilities yet');
		// Capabilities mediasoup refuses: each producer fails with 488; another room's producer is not even found.
		t.like((await bob.roomRequest('consumeMany', { producerIds: [audio.id, video.id], rtpCapabilities: { codecs: [] } })).failed, [{ errorCode: 488 }, { errorCode: 488 }]);
		t.like((await mallory.roomRequest('consumeMany', { producerIds: [audio.id], rtpCapabilities: mallory.device.rtpCapabilities })).failed, [{ producerId: audio.id, errorCode: 404 }]);
		t.deepEqual(server.health().media, before);

		// Per producer: own 403, another room's 404, unknown 404; the rest are consumed.
		const ownVideo = await bob.produce('video', { source: 'camera' });
		const { consumers, failed } = await bob.consumeMany([audio.id, ownVideo.id, malloryAudio.id, 'no-such-producer', video.id]);

		t.deepEqual(consumers.map((c) => c.producerId), [audio.id, video.id]);
		t.deepEqual(failed.map((f) => [f.producerId, f.errorCode]), [[ownVideo.id, 403], [malloryAudio.id, 404], ['no-such-producer', 404]]);
		t.is(server.health().media.consumers, before.consumers + 2);

		// Consuming the same producer again is refused (409), the capabilities are remembered now.
		const second = await bob.roomRequest('consumeMany', { producerIds: [audio.id] });

		t.deepEqual(second.consumers, []);
		t.like(second.failed[0], { producerId: audio.id, errorCode: 409 });

		// Without a recv transport: 409 for the whole request.
		const carol = await TestPeer.connect(url);

		t.teardown(() => carol.close());
		await carol.join(alice.roomId);
		t.is(await errorCodeOf(carol.roomRequest('consumeMany', { producerIds: [audio.id], rtpCapabilities: bob.device.rtpCapabilities })), 409);
		t.is(server.health().media.consumers, before.consumers + 2);
	});
}
