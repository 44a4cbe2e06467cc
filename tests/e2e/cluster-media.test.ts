// E2E through a cluster: two Chromium peers connected through two nodes to a
// room hosted on a third exchange real audio and video. Signaling is relayed
// through Redis; media goes straight between each browser and the hosting
// node (the entry nodes hold no mediasoup object at all).

import { browserSuite } from '../helpers/browser/suite.js';
import { BrowserRoom, mediaFlowing } from '../helpers/browser/call.js';
import { describeInbound, inboundWindows, sampleWindow } from '../helpers/browser/metrics.js';
import { missingPrerequisite } from '../helpers/chromium.js';
import { TestPeer } from '../helpers/client.js';
import { TestCluster } from '../helpers/cluster.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';
import { redisMissing } from '../helpers/redis.js';

const WINDOW_SECONDS = 6;

const serial = browserSuite(missingPrerequisite() ?? redisMissing());

serial('two Chromium peers through two nodes exchange audio and video in a room on a third', async (t) => {
	t.timeout(150_000);

	const { site } = t.context;
	const cluster = await TestCluster.start(3, { frontendUrl: site.origin });

	t.teardown(() => cluster.close());

	// The room is placed by the cluster; the browsers then come in through the two other nodes.
	const creator = await TestPeer.connect(cluster.nodes[0]!.process.url);

	await creator.create();

	const roomId = creator.roomId;
	const host = cluster.node((await cluster.hostOf(roomId))!);
	const [entryA, entryB] = cluster.nodes.filter((n) => n !== host);

	await creator.roomRequest('leaveRoom');
	creator.close();

	const rooms = [entryA!, entryB!].map((node) => {
		const room = new BrowserRoom({ clientOrigin: site.origin, serverUrl: node.process.url });

		room.roomId = roomId;

		return room;
	});

	t.teardown(() => Promise.all(rooms.map((r) => r.close())));

	const media = { width: 640, height: 480, fps: 30, fakeFps: 30 };
	const alice = await rooms[0]!.addPeer('alice', media);
	const bob = await rooms[1]!.addPeer('bob', media);

	t.log(`room ${roomId} on ${host.id}; alice through ${entryA!.id}, bob through ${entryB!.id}`);
	await mediaFlowing([alice, bob]);

	const machine = startMachineMeter();
	const samples = await sampleWindow([alice, bob], WINDOW_SECONDS, 1000);

	t.log(machineNote(machine.stop()));

	for (const peer of [alice, bob]) {
		const inbound = inboundWindows(peer.name, samples.get(peer.name) ?? []);
		const video = inbound.filter((w) => w.kind === 'video');
		const audio = inbound.filter((w) => w.kind === 'audio');

		for (const w of inbound) t.log(describeInbound(w, peer === alice ? 'bob' : 'alice'));
		t.is(video.length, 1, `${peer.name} receives one video`);
		t.is(audio.length, 1, `${peer.name} receives one audio`);
		for (const w of video) {
			t.true(w.intervals >= WINDOW_SECONDS - 1, `${peer.name}: video sampled over ${w.intervals} intervals`);
			t.true(w.fps.min > 0, `${peer.name}: frames decoded in every second (min ${w.fps.min.toFixed(1)} fps)`);
			t.true(w.lossPct < 1, `${peer.name}: video loss ${w.lossPct.toFixed(2)} % < 1 %`);
		}
		for (const w of audio) {
			t.true(w.packetsPerSecond.min > 0, `${peer.name}: audio packets arrive in every interval`);
			t.true(w.lossPct < 1, `${peer.name}: audio loss ${w.lossPct.toFixed(2)} % < 1 %`);
		}
	}

	// Media stays on the hosting node: the entry nodes only relay signaling.
	const [onHost, onA, onB] = await Promise.all([host, entryA!, entryB!].map((n) => n.process.inspect()));

	t.is(onHost!.media.producers, 4, 'the host holds both peers\' audio and video');
	t.is(onHost!.media.consumers, 4);
	for (const entry of [onA!, onB!]) t.deepEqual([entry.rooms, entry.media.transports, entry.media.producers], [0, 0, 0], 'an entry node holds no media');
});
