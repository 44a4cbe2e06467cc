// Join tokens (AUTH_MODE=jwt): who may create and join which room with which
// grants, identities others see, rejoin with a valid token, TURN usernames
// per identity, the `vcall token` command, and the configuration checks.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { errorCodeOf, TestPeer } from './helpers/client.js';
import { RawClient } from './helpers/raw.js';
import { startServer, testConfig } from './helpers/server.js';
import { mintJoinToken } from '../lib/auth/JoinTokens.js';
import { ALL_GRANTS } from '../lib/auth/grants.js';
import { ConfigError } from '../lib/config/load.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!';
const mainScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'main.js');

function token(identity: string, room: string | undefined, grants: Partial<typeof ALL_GRANTS> = ALL_GRANTS): Promise<string> {
	return mintJoinToken(SECRET, { identity, room, ttlSeconds: 600, grants });
}

test.serial('AUTH_MODE=jwt: tokens decide who joins which room with which grants', async (t) => {
	const { server, url, httpUrl } = await startServer({ authMode: 'jwt', authSecret: SECRET, turnUrls: 'turn:turn.example:3478', turnSecret: 'coturn-secret' });

	t.teardown(() => server.close());
	t.is(((await (await fetch(`${httpUrl}/health`)).json()) as { auth: string }).auth, 'jwt');

	const alice = await TestPeer.connect(url);
	const bob = await TestPeer.connect(url);
	const mallory = await TestPeer.connect(url);

	t.teardown(() => [alice, bob, mallory].forEach((p) => p.close()));

	// No token, a forged one, an expired one: 401.
	t.is(await errorCodeOf(alice.request('createRoom', {})), 401);
	t.is(await errorCodeOf(alice.request('joinRoom', { roomId: 'standup', token: await mintJoinToken('another-secret-of-at-least-32-bytes', { identity: 'alice', room: 'standup', ttlSeconds: 60, grants: ALL_GRANTS }) })), 401);

	const expired = await new SignJWT({ room: 'standup', grants: ALL_GRANTS }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(new TextEncoder().encode(SECRET));
	const refusal = await alice.request('joinRoom', { roomId: 'standup', token: expired }).catch((e) => e);

	t.is(refusal.code, 401);
	t.regex(refusal.message, /expired/);
	t.false(refusal.message.includes(expired), 'the token is not echoed');

	// Without the create grant a missing room is not created; with it, joinRoom opens the app's room.
	t.is(await errorCodeOf(alice.request('joinRoom', { roomId: 'standup', token: await token('alice', 'standup', { publish: true }) })), 404);

	const joined = await alice.request('joinRoom', { roomId: 'standup', metadata: { identity: 'the queen' }, token: await token('alice', 'standup') });

	Object.assign(alice, { roomId: joined.roomId, peerId: joined.peerId, reconnectToken: joined.reconnectToken });
	t.is(joined.roomId, 'standup');
	t.is(server.rooms.roomCount, 1);

	// A token for another room, or one that names no room, does not open this one.
	t.is(await errorCodeOf(mallory.request('joinRoom', { roomId: 'standup', token: await token('mallory', 'other') })), 403);
	t.is(await errorCodeOf(mallory.request('joinRoom', { roomId: 'standup', token: await token('mallory', undefined) })), 403);

	// Bob joins by ?token= on the URL, subscribe only: others see his identity, metadata cannot fake one.
	const bobUrl = `${url}?token=${await token('bob', 'standup', { subscribe: true })}`;
	const bobByUrl = await TestPeer.connect(bobUrl);

	t.teardown(() => bobByUrl.close());

	const bobJoined = await bobByUrl.request('joinRoom', { roomId: 'standup', metadata: { identity: 'alice' } });

	Object.assign(bobByUrl, { roomId: 'standup', peerId: bobJoined.peerId });
	t.deepEqual(bobJoined.peers.map((p) => p.identity), ['alice']);
	t.is((await alice.waitFor('peerJoined')).data.identity, 'bob');
	t.is((await alice.roomRequest('getRoomInfo')).peers.find((p) => p.peerId === bobJoined.peerId)?.identity, 'bob');

	// Grants: bob may not publish, alice may publish and screen-share; TURN usernames carry the identity.
	await alice.setupMedia();
	await bobByUrl.setupMedia();

	const transport = await alice.roomRequest('createWebRtcTransport', { direction: 'recv' });

	t.regex(transport.iceServers[0].username, /^\d+:alice$/);

	const producer = await alice.produce('video', { source: 'screen' });

	t.is(await errorCodeOf(bobByUrl.roomRequest('produce', { transportId: bobByUrl.sendTransport!.id, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, payloadType: 100, channels: 2 }] } })), 403);
	await bobByUrl.consume(producer.id);

	// Carol may publish but not screen-share, and not subscribe.
	const carol = await TestPeer.connect(url);

	t.teardown(() => carol.close());

	const carolJoined = await carol.request('joinRoom', { roomId: 'standup', token: await token('carol', 'standup', { publish: true }) });

	Object.assign(carol, { roomId: 'standup', peerId: carolJoined.peerId });
	await carol.setupMedia();
	t.is(await errorCodeOf(carol.produce('video', { source: 'screen' })), 403);
	await carol.produce('audio', { source: 'mic' });
	t.is(await errorCodeOf(carol.roomRequest('consume', { producerId: producer.id, rtpCapabilities: carol.device.rtpCapabilities })), 403);

	// Rejoin: the reconnect token and a valid join token of the same identity.
	const again = await RawClient.open(url);

	t.teardown(() => again.ws.terminate());

	const rejoin = { roomId: 'standup', peerId: alice.peerId, reconnectToken: alice.reconnectToken };

	t.is((await again.request('rejoinRoom', rejoin)).errorCode, 401, 'no join token');
	t.is((await again.request('rejoinRoom', { ...rejoin, token: expired })).errorCode, 401, 'expired join token');
	t.is((await again.request('rejoinRoom', { ...rejoin, token: await token('mallory', 'standup') })).errorCode, 401, "another identity's token");
	t.true((await again.request('rejoinRoom', { ...rejoin, token: await token('alice', 'standup') })).ok);
});

test.serial('AUTH_PUBLIC_KEY: EdDSA tokens signed by the app backend', async (t) => {
	const { publicKey, privateKey } = await generateKeyPair('EdDSA');
	const { server, url } = await startServer({ authMode: 'jwt', authPublicKey: await exportSPKI(publicKey) });

	t.teardown(() => server.close());

	const peer = await TestPeer.connect(url);

	t.teardown(() => peer.close());

	const signed = await new SignJWT({ room: 'lesson-42', grants: { create: true, publish: true } }).setProtectedHeader({ alg: 'EdDSA' }).setSubject('teacher').setExpirationTime('5m').sign(privateKey);

	t.is((await peer.request('joinRoom', { roomId: 'lesson-42', token: signed })).roomId, 'lesson-42');
	t.is(await errorCodeOf(peer.request('joinRoom', { roomId: 'lesson-42', token: await token('teacher', 'lesson-42') })), 409, 'already in (the HS256 token would be refused anyway)');
});

test('`vcall token` prints a token the server accepts', async (t) => {
	const run = (args: string[], env: Record<string, string>) => spawnSync(process.execPath, [mainScript, 'token', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ENV_FILE: '/dev/null', ...env } });
	const ok = run(['--room', 'standup', '--identity', 'alice', '--ttl', '1h', '--grant', 'publish,subscribe'], { AUTH_SECRET: SECRET });

	t.is(ok.status, 0, ok.stderr);

	const { payload } = await jwtVerify(ok.stdout.trim(), new TextEncoder().encode(SECRET));

	t.is(payload.sub, 'alice');
	t.is(payload.room, 'standup');
	t.deepEqual(payload.grants, { publish: true, subscribe: true });
	t.is(payload.exp! - payload.iat!, 3600);

	const noSecret = run(['--identity', 'alice'], {});

	t.is(noSecret.status, 2);
	t.regex(noSecret.stderr, /AUTH_SECRET is not set/);
	t.regex(run(['--identity', 'a', '--grant', 'fly'], { AUTH_SECRET: SECRET }).stderr, /unknown grant fly/);
	t.regex(run(['--identity', 'a', '--room', 'no spaces'], { AUTH_SECRET: SECRET }).stderr, /--room must be/);
});

test('configuration: short secrets and jwt without a key are refused', (t) => {
	t.throws(() => testConfig({ authMode: 'jwt' }), { instanceOf: ConfigError, message: /AUTH_MODE=jwt needs AUTH_SECRET or AUTH_PUBLIC_KEY/ });
	t.throws(() => testConfig({ authMode: 'jwt', authSecret: 'short' }), { message: /AUTH_SECRET must be at least 32 bytes/ });
	t.throws(() => testConfig({ adminToken: 'sesame' }), { message: /ADMIN_TOKEN must be at least 32 characters/ });
	t.is(testConfig().authMode, 'none', 'tests and npm start run without tokens by default');
});
