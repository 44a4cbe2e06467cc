// E2E 6: TURN. Debian's coturn runs on 127.0.0.1 from systemd/coturn.conf.example
// (use-auth-secret with a fresh secret; the SFU's address let through with
// allowed-peer-ip, as the example says for an SFU on the same host). The
// server hands each peer time-limited credentials with its transports. Alice's
// Chromium may use relay candidates only (iceTransportPolicy 'relay'): she must
// reach the server through coturn with those credentials, and media must flow
// both ways. Bob connects directly, as a control.

import { browserSuite } from '../helpers/browser/suite.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TransportStats } from '../../lib/client/api.js';
import { Coturn, configFrom, coturnMissing, exampleConfig } from '../helpers/coturn.js';
import { freePort } from '../helpers/listeners.js';
import { Call } from '../helpers/browser/call.js';
import { missingPrerequisite } from '../helpers/chromium.js';
import { describeInbound, inboundWindows, sampleWindow } from '../helpers/browser/metrics.js';

const WINDOW_SECONDS = 5;

const serial = browserSuite(missingPrerequisite() ?? coturnMissing());

function describePair(s: TransportStats): string {
	const { localCandidate: l, remoteCandidate: r } = s;

	return `${s.direction}: ${l?.protocol} ${l?.address}:${l?.port} (${l?.candidateType}) -> ${r?.address}:${r?.port} (${r?.candidateType})`;
}

serial('a relay-only Chromium peer reaches the server through coturn with the credentials it was handed', async (t) => {
	t.timeout(110_000);

	const dir = await mkdtemp(path.join(os.tmpdir(), 'vcall-turn-e2e-'));

	t.teardown(() => rm(dir, { recursive: true, force: true }));

	const secret = randomBytes(32).toString('hex');
	const turnPort = await freePort();
	const turn = await Coturn.start(
		configFrom(exampleConfig(), {
			'listening-port': String(turnPort),
			'listening-ip': '127.0.0.1',
			'relay-ip': '127.0.0.1',
			'static-auth-secret': secret,
			realm: 'vcall.test',
			// The SFU listens on loopback here: let exactly that address through.
			'allowed-peer-ip': '127.0.0.1',
			'allow-loopback-peers': true,
			// No certificate in this test: TURN over UDP only.
			'tls-listening-port': null,
			cert: null,
			pkey: null,
			'no-tls': true,
			'no-dtls': true,
			syslog: null,
			'log-file': 'stdout',
			// One line per allocation, with its user: how the test sees alice's credential used.
			verbose: true
		}),
		dir
	);

	t.teardown(() => turn.stop());

	const call = await Call.start(t.context.site, { server: { turnUrls: `turn:127.0.0.1:${turnPort}?transport=udp`, turnSecret: secret } });

	t.teardown(() => call.close());
	t.log(`server listener: ${call.listenerKind}; coturn on udp 127.0.0.1:${turnPort}`);

	const media = { width: 320, height: 240, fps: 15, fakeFps: 15 };
	const alice = await call.addPeer('alice', { ...media, relayOnly: true });
	const bob = await call.addPeer('bob', media);

	await call.mediaFlowing();

	// Alice's selected pairs go through the relay; Bob's do not.
	const aliceTransports = (await alice.stats()).transports;
	const bobTransports = (await bob.stats()).transports;

	for (const s of [...aliceTransports, ...bobTransports]) t.log(`${aliceTransports.includes(s) ? 'alice' : 'bob'} ${describePair(s)}`);
	t.is(aliceTransports.length, 2, 'alice has a send and a recv transport');
	for (const s of aliceTransports) {
		t.is(s.localCandidate?.candidateType, 'relay', `alice ${s.direction}: local candidate is a TURN relay`);
		t.is(s.dtlsState, 'connected', `alice ${s.direction}: DTLS connected through the relay`);
	}
	for (const s of bobTransports) t.not(s.localCandidate?.candidateType, 'relay', `bob ${s.direction}: direct`);

	// coturn accepted allocations for alice's server-issued username (<expiry>:<peerId>).
	const { peerId } = await alice.state();
	const username = new RegExp(`user <(\\d+):${peerId}>`);
	const allocated = turn.log.split('\n').filter((line) => username.test(line) && /ALLOCATE processed, success/.test(line));

	t.true(allocated.length >= 1, `coturn allocated for ${peerId}:\n${turn.log.slice(-2000)}`);

	const expiry = Number(username.exec(allocated[0]!)![1]);
	const ttl = expiry - Date.now() / 1000;

	t.true(ttl > 3_500 && ttl <= 3_600, `the credential expires in TURN_CREDENTIAL_TTL (default 3600 s): ${ttl.toFixed(0)} s`);
	t.false(/401|403/.test(turn.log.split('\n').filter((line) => username.test(line) && /error/i.test(line)).join('\n')), 'no authentication errors');

	// Media keeps flowing both ways over a window.
	const samples = await sampleWindow([alice, bob], WINDOW_SECONDS, 1000);
	const names = await call.names();

	for (const peer of [alice, bob]) {
		const inbound = inboundWindows(peer.name, samples.get(peer.name) ?? []);

		for (const w of inbound) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));
		t.is(inbound.filter((w) => w.kind === 'video').length, 1, `${peer.name} receives one video`);
		t.is(inbound.filter((w) => w.kind === 'audio').length, 1, `${peer.name} receives one audio`);
		for (const w of inbound) {
			t.true(w.packetsPerSecond.min > 0, `${peer.name}: ${w.kind} packets arrive in every interval`);
			if (w.kind === 'video') t.true(w.fps.avg >= 5, `${peer.name}: ${w.fps.avg.toFixed(1)} fps decoded over the window`);
		}
	}
});
