// Configuration: defaults, sources and their order, and invalid values that
// stop the start with a one-line message.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import example from '../config.example.js';
import { resolveAnnounced } from '../lib/config/announced.js';
import { ConfigError, loadConfig } from '../lib/config/load.js';
import { OPTIONS } from '../lib/config/options.js';

const mainScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'main.js');
const none = { env: {}, envFile: '/dev/null', argv: [] };

test('defaults are the documented ones, and config.example.ts lists every option with its default', (t) => {
	const config = loadConfig(none);

	t.is(config.port, 3000);
	t.is(config.httpsPort, 3443);
	t.is(config.maxPeersPerRoom, 7);
	t.is(config.peerTimeout, 60);
	t.is(config.reconnectGrace, 30);
	t.is(config.roomIdleTimeout, 1800);
	t.is(config.rtcMinPort, 40000);
	t.is(config.rtcMaxPort, 49999);
	t.true(config.numWorkers >= 1 && config.numWorkers <= 4);
	t.is(config.announcedIp, undefined);
	t.deepEqual(Object.keys(example).sort(), OPTIONS.map((o) => o.key).sort());
	for (const option of OPTIONS) if (option.key !== 'numWorkers') t.is((example as Record<string, unknown>)[option.key], option.default, option.key);
});

test('.env < environment < flags < overrides', (t) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcall-config-'));
	const envFile = path.join(dir, '.env');

	fs.writeFileSync(envFile, 'PORT=4000\nMAX_PEERS_PER_ROOM=3\nMEDIASOUP_ANNOUNCED_IP=198.51.100.1\nMEDIASOUP_USE_WEBRTC_SERVER=false\n');
	t.teardown(() => fs.rmSync(dir, { recursive: true }));

	const config = loadConfig({ envFile, env: { PORT: '5000', PEER_TIMEOUT: '2.5' }, argv: ['--max-peers-per-room', '9'] });

	t.is(config.port, 5000);
	t.is(config.maxPeersPerRoom, 9);
	t.is(config.peerTimeout, 2.5);
	t.is(config.announcedIp, '198.51.100.1');
	t.false(config.useWebRtcServer);
	t.is(loadConfig({ ...none, overrides: { port: 1 } }).port, 1);
});

test('invalid values are refused with a message naming the variable', (t) => {
	const cases: [Record<string, string>, RegExp][] = [
		[{ PORT: '70000' }, /PORT="70000" is invalid: expected an integer from 0 to 65535/],
		[{ PORT: 'abc' }, /PORT="abc" is invalid/],
		[{ MEDIASOUP_MIN_PORT: '45000', MEDIASOUP_MAX_PORT: '44000' }, /MEDIASOUP_MIN_PORT \(45000\) is greater than MEDIASOUP_MAX_PORT \(44000\)/],
		[{ LISTENER: 'iis' }, /LISTENER="iis" is invalid: expected one of auto, uws, node/],
		[{ SSL_CERT_PATH: '/nonexistent/cert.pem', SSL_KEY_PATH: '/nonexistent/key.pem' }, /SSL_CERT_PATH \/nonexistent\/cert.pem is not readable/],
		[{ SSL_CERT_PATH: '/etc/hostname' }, /must be set together/],
		[{ MEDIASOUP_USE_WEBRTC_SERVER: 'maybe' }, /expected true or false/],
		[{ MEDIASOUP_NUM_WORKERS: '4', MEDIASOUP_MIN_PORT: '40000', MEDIASOUP_MAX_PORT: '40001' }, /fewer ports than MEDIASOUP_NUM_WORKERS/]
	];

	for (const [env, message] of cases) t.throws(() => loadConfig({ ...none, env }), { instanceOf: ConfigError, message }, JSON.stringify(env));
});

test('the command exits 2 with one line on a bad value, and --help lists every flag', (t) => {
	const bad = spawnSync(process.execPath, [mainScript], { env: { ...process.env, PORT: '-1', ENV_FILE: '/dev/null' }, encoding: 'utf8' });

	t.is(bad.status, 2);
	t.is(bad.stderr.trim().split('\n').length, 1);
	t.regex(bad.stderr, /configuration error: PORT="-1" is invalid/);

	const help = spawnSync(process.execPath, [mainScript, '--help'], { encoding: 'utf8' });

	t.is(help.status, 0);
	for (const option of OPTIONS) t.true(help.stdout.includes(option.env), option.env);
	t.regex(help.stdout, /--announced-ip/);
});

test('without an announced address the server guesses one and warns in production', (t) => {
	const production = resolveAnnounced(loadConfig(none));

	t.truthy(production.config.announcedIp);
	t.regex(production.warning ?? '', /MEDIASOUP_ANNOUNCED_IP is not set/);
	t.is(resolveAnnounced(loadConfig({ ...none, env: { NODE_ENV: 'development' } })).warning, undefined);
	t.is(resolveAnnounced(loadConfig({ ...none, env: { NODE_ENV: 'test' } })).warning, undefined);
	t.is(resolveAnnounced(loadConfig({ ...none, env: { MEDIASOUP_ANNOUNCED_IP: '203.0.113.9' } })).config.announcedIp, '203.0.113.9');
});
