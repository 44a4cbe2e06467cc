// Cluster mode: a real redis-server (no persistence) and three real server
// processes. Rooms spread over the nodes, a client on any node works in a
// room on any other (relayed through Redis), and failures end as documented:
// a drained node gets no rooms, a SIGKILLed node's relayed peers hear
// roomClosed {reason: 'nodeDied'} within 10 s, a Redis restart leaves calls
// going and placement back within seconds, a hung node answers 503.

import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { mintJoinToken } from '../lib/auth/JoinTokens.js';
import { ALL_GRANTS } from '../lib/auth/grants.js';
import { errorCodeOf, TestPeer } from './helpers/client.js';
import { TestCluster, type ClusterNode } from './helpers/cluster.js';
import { RawClient } from './helpers/raw.js';
import { redisMissing } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

const test = anyTest as TestFn<{ cluster: TestCluster }>;
const missing = redisMissing();
const serial = missing ? test.serial.skip : test.serial;

test.before(async (t) => {
	if (missing) return t.log(missing);
	// Empty rooms close at once, so each test starts from load the others left behind.
	t.context.cluster = await TestCluster.start(3, { roomIdleTimeout: 0.5, relayTimeout: 1.5, maxConnectionsPerIp: 200, roomCreatesPerMinute: 1000 });
});

test.after.always(async (t) => {
	await t.context.cluster?.close();
});

/** Connects a peer to a node; closed when the test ends. */
async function connect(t: ExecutionContext, node: ClusterNode): Promise<TestPeer> {
	const peer = await TestPeer.connect(node.process.url);

	t.teardown(() => peer.close());

	return peer;
}

/** The ports of a transport's ICE candidates. */
function candidatePorts(transport: { iceCandidates: { port: number }[] }): number[] {
	return [...new Set(transport.iceCandidates.map((c) => c.port))];
}

serial('rooms created through one node spread over the three', async (t) => {
	const { cluster } = t.context;
	const [n1] = cluster.nodes;
	const hosts: string[] = [];

	for (let i = 0; i < 6; i++) {
		const peer = await connect(t, n1!);

		await peer.create();
		hosts.push((await cluster.hostOf(peer.roomId))!);
	}
	t.deepEqual(
		hosts.toSorted(),
		['n1', 'n1', 'n2', 'n2', 'n3', 'n3'],
		'each node hosts two of six rooms'
	);
	for (const node of cluster.nodes) {
		const health = await cluster.health(node);

		t.is(health.rooms, 2, `${node.id} counts the rooms it hosts`);
		t.is(health.peers, 2, `${node.id} counts the peers it hosts`);
		t.like(health.cluster, { nodeId: node.id, redis: 'ready', nodesAlive: 3 });
	}

	// The ops listener's cluster view: every live node with its load (as of its last heartbeat).
	const expected = JSON.stringify([['n1', 2, false], ['n2', 2, false], ['n3', 2, false]]);
	const nodesSeen = async () => {
		const view = await n1!.process.getJson<{ nodes: { id: string; rooms: number; draining: boolean }[] }>('/cluster');

		return JSON.stringify(view.nodes.map((n) => [n.id, n.rooms, n.draining]).toSorted());
	};

	await waitFor(async () => (await nodesSeen()) === expected, { what: 'GET /cluster on the ops listener lists the three nodes with two rooms each' });
	t.pass();
});

serial('one room, peers through three nodes: notifications cross nodes, consume/pause/resume work, candidates are the host\'s', async (t) => {
	t.timeout(60_000);

	const { cluster } = t.context;
	const peers = await Promise.all(cluster.nodes.map((node) => connect(t, node)));
	const [a, b, c] = peers as [TestPeer, TestPeer, TestPeer];

	await a.create({ name: 'a' });

	const host = cluster.node((await cluster.hostOf(a.roomId))!);

	await b.join(a.roomId, { name: 'b' });
	await c.join(a.roomId, { name: 'c' });
	await a.waitFor('peerJoined', (d) => d.peerId === c.peerId);
	await b.waitFor('peerJoined', (d) => d.peerId === c.peerId);

	// A transport made through any node carries the hosting node's port (setupMedia then replaces it).
	for (const peer of peers) {
		const transport = await peer.roomRequest('createWebRtcTransport', { direction: 'recv' });

		t.deepEqual(candidatePorts(transport), [host.rtcPort], 'candidates are on the hosting node');
		await peer.setupMedia();
	}

	const produced = new Map<TestPeer, string[]>();

	for (const peer of peers) {
		const audio = await peer.produce('audio', { source: 'mic' });
		const video = await peer.produce('video', { source: 'camera' });

		produced.set(peer, [audio.id, video.id]);
	}
	// Every peer hears of every other peer's producers, wherever it is connected, and consumes them.
	for (const peer of peers) {
		for (const other of peers) {
			if (other === peer) continue;
			for (const producerId of produced.get(other)!) {
				await peer.waitFor('newProducer', (d) => d.producerId === producerId && d.peerId === other.peerId);
				await peer.consume(producerId);
			}
		}
		t.is(peer.consumers.size, 4);
	}

	const info = await c.roomRequest('getRoomInfo');

	t.is(info.peerCount, 3);

	const inspection = await host.process.inspect();

	t.is(inspection.media.producers, 6, 'the host holds every producer');
	t.is(inspection.media.consumers, 12, 'the host holds every consumer');

	// Pause and resume cross nodes: a producer paused by a relayed peer is announced to the others.
	const [audioOfB] = produced.get(b)!;

	await b.roomRequest('pauseProducer', { producerId: audioOfB! });
	await a.waitFor('producerPaused', (d) => d.producerId === audioOfB);
	await c.waitFor('producerPaused', (d) => d.producerId === audioOfB);
	await b.roomRequest('resumeProducer', { producerId: audioOfB! });
	await a.waitFor('producerResumed', (d) => d.producerId === audioOfB);

	const consumer = [...c.consumers.values()][0]!;

	t.deepEqual(await c.roomRequest('pauseConsumer', { consumerId: consumer.id }), { success: true });
	t.deepEqual(await c.roomRequest('resumeConsumer', { consumerId: consumer.id }), { success: true });

	await a.roomRequest('leaveRoom');
	await b.waitFor('peerLeft', (d) => d.peerId === a.peerId);
	await c.waitFor('peerLeft', (d) => d.peerId === a.peerId);
	await c.waitFor('producerClosed', (d) => produced.get(a)!.includes(d.producerId));
});

serial('bad input relayed to another node gets the same documented answers as locally', async (t) => {
	t.timeout(60_000);

	const { cluster } = t.context;
	const creator = await connect(t, cluster.nodes[0]!);

	await creator.create();

	const host = cluster.node((await cluster.hostOf(creator.roomId))!);
	const entry = cluster.nodes.find((n) => n !== host)!;
	const other = await connect(t, cluster.nodes[0]!);

	await other.create();

	/** Every bad request a joined peer may send, with its answer's code. */
	async function battery(node: ClusterNode): Promise<Record<string, number>> {
		const peer = await connect(t, node);

		await peer.join(creator.roomId);
		await peer.setupMedia();

		const roomId = creator.roomId;
		const fresh = await connect(t, node);
		const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] };
		const codes = {
			unknownMethod: await errorCodeOf(peer.untypedRequest('fly', {})),
			badField: await errorCodeOf(peer.untypedRequest('createWebRtcTransport', { roomId, direction: 'sideways' })),
			unknownTransport: await errorCodeOf(peer.untypedRequest('connectWebRtcTransport', { roomId, transportId: 'nope', dtlsParameters })),
			unknownProducer: await errorCodeOf(peer.roomRequest('consume', { producerId: 'nope', rtpCapabilities: peer.device.rtpCapabilities })),
			otherRoom: await errorCodeOf(peer.request('getRoomInfo', { roomId: other.roomId })),
			joinTwice: await errorCodeOf(peer.request('joinRoom', { roomId, metadata: {} })),
			refusedRtp: await errorCodeOf(
				peer.roomRequest('produce', {
					transportId: peer.sendTransport!.id,
					kind: 'audio',
					rtpParameters: { codecs: [{ mimeType: 'audio/nonsense', payloadType: 100, clockRate: 8000 }], encodings: [{ ssrc: 1 }] },
					metadata: {}
				})
			),
			noSuchRoom: await errorCodeOf(fresh.request('joinRoom', { roomId: 'no-such-room', metadata: {} })),
			wrongReconnectToken: await errorCodeOf(fresh.request('rejoinRoom', { roomId, peerId: peer.peerId, reconnectToken: 'x'.repeat(32) })),
			beforeJoining: await errorCodeOf(fresh.request('getRoomInfo', { roomId }))
		};

		await peer.roomRequest('leaveRoom');

		return codes;
	}

	const before = (await host.process.inspect()).media;
	const local = await battery(host);
	const relayed = await battery(entry);

	t.log(`local ${JSON.stringify(local)}`);
	t.deepEqual(relayed, local, 'relayed answers are the local ones');
	t.deepEqual(local, {
		unknownMethod: 405,
		badField: 400,
		unknownTransport: 404,
		unknownProducer: 404,
		otherRoom: 403,
		joinTwice: 409,
		refusedRtp: 488,
		noSuchRoom: 404,
		wrongReconnectToken: 401,
		beforeJoining: 409
	});
	// Nothing leaked on the host: the peers that left took their transports along.
	await waitFor(async () => JSON.stringify((await host.process.inspect()).media) === JSON.stringify(before), { what: 'the host to hold what it held before' });
	t.is((await creator.roomRequest('getRoomInfo')).peerCount, 1);
	for (const node of cluster.nodes) t.is((await cluster.health(node)).status, 'healthy');
});

serial('join tokens: rooms opened by joinRoom follow placement, and two nodes opening one room at once agree on its host', async (t) => {
	t.timeout(60_000);

	const secret = 'cluster-test-secret-of-at-least-32-bytes';
	const cluster = await TestCluster.start(3, { authMode: 'jwt', authSecret: secret, roomIdleTimeout: 0.5, maxConnectionsPerIp: 200 });

	t.teardown(() => cluster.close());

	const token = (identity: string, room: string) => mintJoinToken(secret, { identity, room, ttlSeconds: 600, grants: ALL_GRANTS });
	const [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
	const hosts: string[] = [];

	for (const room of ['lesson-1', 'lesson-2', 'lesson-3']) {
		const teacher = await connect(t, n1);

		t.is((await teacher.request('joinRoom', { roomId: room, metadata: {}, token: await token('teacher', room) })).roomId, room);
		hosts.push((await cluster.hostOf(room))!);
	}
	t.deepEqual(hosts.toSorted(), ['n1', 'n2', 'n3'], 'one room on each node');

	// Two nodes open the same new room at once: the directory claim decides, both peers end up in one room.
	const [x, y] = await Promise.all([connect(t, n2), connect(t, n3)]);
	const [joinedX, joinedY] = await Promise.all([
		x.request('joinRoom', { roomId: 'standup', metadata: {}, token: await token('x', 'standup') }),
		y.request('joinRoom', { roomId: 'standup', metadata: {}, token: await token('y', 'standup') })
	]);

	t.is(joinedX.roomId, 'standup');
	t.is(joinedY.roomId, 'standup');
	x.roomId = 'standup';
	t.is((await x.roomRequest('getRoomInfo')).peerCount, 2);

	// createRoom for a room another node hosts: the same 409 as on one node.
	const z = await connect(t, n1);

	t.is(await errorCodeOf(z.request('createRoom', { metadata: {}, token: await token('z', 'standup') })), 409);
});

serial('rejoinRoom through another node takes over the peer on the host', async (t) => {
	const { cluster } = t.context;
	const [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
	const alice = await connect(t, n1);
	const bob = await connect(t, n2);

	await alice.create();
	await bob.join(alice.roomId);
	await bob.setupMedia();

	const again = await connect(t, n3);
	const rejoined = await again.request('rejoinRoom', { roomId: bob.roomId, peerId: bob.peerId, reconnectToken: bob.reconnectToken });

	t.is(rejoined.peerId, bob.peerId);
	t.is(rejoined.transports.length, 2, 'the transports made through n2 are still there');
	await waitFor(() => bob.protoo.closed, { what: 'the replaced connection to close' });
	again.roomId = bob.roomId;
	t.is((await again.roomRequest('getRoomInfo')).peerCount, 2);
	await alice.roomRequest('leaveRoom');
	await again.waitFor('peerLeft', (d) => d.peerId === alice.peerId);
});

serial('a hung hosting node: relayed requests get 503 after RELAY_TIMEOUT, never a hang', async (t) => {
	const { cluster } = t.context;
	const alice = await connect(t, cluster.nodes[0]!);

	await alice.create();

	const host = cluster.node((await cluster.hostOf(alice.roomId))!);
	const entry = cluster.nodes.find((n) => n !== host)!;
	const bob = await connect(t, entry);

	await bob.join(alice.roomId);
	host.process.signal('SIGSTOP');
	try {
		const started = Date.now();

		t.is(await errorCodeOf(bob.roomRequest('getRoomInfo')), 503);
		t.true(Date.now() - started < 5000, 'answered at the relay timeout');
	} finally {
		host.process.signal('SIGCONT');
	}
	// Back within the node TTL: nothing was declared dead, the call goes on.
	t.is((await bob.roomRequest('getRoomInfo')).peerCount, 2);
	t.is(bob.count('roomClosed'), 0);
});

serial('a draining node gets no new rooms; its call goes on, it exits when the call ends, and its relayed clients are told to reconnect', async (t) => {
	t.timeout(60_000);

	const { cluster } = t.context;
	const n1 = cluster.node('n1');
	// A node of its own to drain: empty, and first in ties, so placement puts the next room there.
	const drained = await cluster.addNode('d0');

	await cluster.settled();

	let caller: TestPeer | undefined;

	for (let i = 0; i < cluster.live.length && !caller; i++) {
		const peer = await connect(t, n1);

		await peer.create();
		if ((await cluster.hostOf(peer.roomId)) === drained.id) caller = peer;
		else await peer.roomRequest('leaveRoom');
	}
	if (!caller) return t.fail('no room landed on the node to drain');

	await drained.process.drain();
	t.is((await cluster.health(drained)).status, 'draining');
	for (let i = 0; i < 6; i++) {
		const peer = await connect(t, n1);

		await peer.create();
		t.not(await cluster.hostOf(peer.roomId), drained.id, 'no new room on the draining node');
	}
	t.is((await caller.roomRequest('getRoomInfo')).peerCount, 1, 'the call on the draining node goes on');

	// A client connected through the draining node to a room elsewhere.
	const elsewhere = await connect(t, n1);

	await elsewhere.create();

	const through = await RawClient.open(drained.process.url);

	t.teardown(() => through.ws.terminate());

	const joined = (await through.request('joinRoom', { roomId: elsewhere.roomId, metadata: {} })).data as { peerId: string; reconnectToken: string };

	await caller.roomRequest('leaveRoom');
	await drained.process.exited;
	t.false(drained.process.alive);

	// Closed with a code protoo-client reconnects after (not 4000); its peer waits in the grace and rejoins through another node.
	t.is((await through.closed).code, 1012);
	t.is((await elsewhere.roomRequest('getRoomInfo')).peerCount, 2);

	const back = await connect(t, cluster.node('n2'));

	t.is((await back.request('rejoinRoom', { roomId: elsewhere.roomId, peerId: joined.peerId, reconnectToken: joined.reconnectToken })).peerId, joined.peerId);
	t.is(elsewhere.count('peerLeft'), 0, 'nobody saw the peer leave');
});

serial('Redis restarted mid-call: the call goes on, and new rooms work again within seconds', async (t) => {
	t.timeout(60_000);

	const { cluster } = t.context;
	const [n1, n2] = cluster.live as [ClusterNode, ClusterNode];
	const alice = await connect(t, n1);

	await alice.create();

	const host = cluster.node((await cluster.hostOf(alice.roomId))!);
	const entry = host === n1 ? n2 : n1;
	const direct = await connect(t, host);
	const relayed = await connect(t, entry);

	await direct.join(alice.roomId);
	await relayed.join(alice.roomId);
	await cluster.redis.stop();
	await waitFor(async () => (await cluster.health(host)).status === 'degraded', { what: 'the host to report degraded' });
	// The host goes on serving its directly connected peers, and opens rooms itself.
	t.is((await direct.roomRequest('getRoomInfo')).peerCount, 3);

	const alone = await connect(t, host);

	await alone.create();
	await alone.roomRequest('leaveRoom');

	await cluster.redis.restart();
	await cluster.settled();
	// The relayed peer is still in the call, and the restarted (empty) Redis knows the room again.
	t.is((await relayed.roomRequest('getRoomInfo')).peerCount, 3);
	await waitFor(async () => (await cluster.hostOf(alice.roomId)) === host.id, { timeout: 10_000, what: 'the host to claim its room again' });

	const late = await connect(t, entry);

	await late.join(alice.roomId);
	await relayed.waitFor('peerJoined', (d) => d.peerId === late.peerId);

	const fresh = await connect(t, entry);

	await fresh.create();
	t.truthy(await cluster.hostOf(fresh.roomId), 'a new room is placed and claimed');
	t.is(alice.count('roomClosed'), 0);
	t.is(relayed.count('roomClosed'), 0);
});

serial('the hosting node SIGKILLed: peers connected elsewhere get roomClosed nodeDied within 10 s; new rooms land on live nodes', async (t) => {
	t.timeout(60_000);

	const { cluster } = t.context;

	// Empty, and first in ties: placement from any node puts the next room there.
	const victim = await cluster.addNode('k0');

	await cluster.settled();

	const survivors = cluster.live.filter((n) => n !== victim);
	const peers: TestPeer[] = [];

	const first = await connect(t, survivors[0]!);

	await first.create();
	t.is(await cluster.hostOf(first.roomId), victim.id);
	peers.push(first);
	for (const node of survivors.slice(1)) {
		const peer = await connect(t, node);

		await peer.join(first.roomId);
		peers.push(peer);
	}

	const killed = Date.now();

	victim.process.signal('SIGKILL');
	await Promise.all(peers.map((peer) => peer.waitFor('roomClosed', (d) => d.reason === 'nodeDied', 10_000)));
	t.log(`roomClosed nodeDied after ${Date.now() - killed} ms`);
	t.true(Date.now() - killed <= 10_000);
	for (let i = 0; i < 3; i++) {
		const peer = await connect(t, survivors[0]!);

		await peer.create();
		t.true(survivors.map((n) => n.id).includes((await cluster.hostOf(peer.roomId))!), 'the room is on a live node');
	}
	t.is(await cluster.hostOf(first.roomId), null, "the dead node's directory entries are gone");
});
