// Security headers on every HTTP answer (both listeners, plain and TLS ports,
// refused upgrades, the ops listener), and the ops endpoints reachable only
// on the ops listener.

import { rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import test from 'ava';
import WebSocket from 'ws';
import { API_CSP } from '../lib/http/security-headers.js';
import { selfSignedCerts } from './helpers/certs.js';
import { availableListeners } from './helpers/listeners.js';
import { startServer } from './helpers/server.js';

const { kinds } = await availableListeners();
const certs = await selfSignedCerts(['server']);

test.after.always(() => rm(certs.dir, { recursive: true, force: true }));

interface Answer {
	status: number;
	headers: IncomingHttpHeaders;
}

async function plainGet(url: string, init: RequestInit = {}): Promise<Answer> {
	const res = await fetch(url, init);

	await res.arrayBuffer();

	return { status: res.status, headers: Object.fromEntries(res.headers) };
}

function httpsGet(port: number, path: string): Promise<Answer> {
	return new Promise((resolve, reject) => {
		https
			.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
				res.resume();
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
			})
			.on('error', reject);
	});
}

/** The answer to a WebSocket upgrade that is refused. */
function refusedUpgrade(url: string): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, 'protoo', { rejectUnauthorized: false });

		ws.once('open', () => reject(new Error(`${url} accepted the upgrade`)));
		ws.once('unexpected-response', (_req, res) => {
			res.resume();
			resolve({ status: res.statusCode ?? 0, headers: res.headers });
		});
		ws.once('error', () => undefined);
	});
}

function hasSecurityHeaders(t: { is: (a: unknown, b: unknown, m?: string) => void }, answer: Answer, what: string, secure: boolean): void {
	t.is(answer.headers['x-content-type-options'], 'nosniff', what);
	t.is(answer.headers['referrer-policy'], 'no-referrer', what);
	t.is(answer.headers['x-frame-options'], 'DENY', what);
	t.is(answer.headers['content-security-policy'], API_CSP, what);
	t.is(answer.headers['strict-transport-security'], secure ? 'max-age=31536000' : undefined, `${what}: HSTS only over TLS`);
}

for (const listener of kinds) {
	test.serial(`[${listener}] every answer carries the security headers; /metrics and /admin only on the ops listener`, async (t) => {
		const { server, httpUrl, opsUrl } = await startServer({ listener, sslCertPath: certs.paths.server!.certPath, sslKeyPath: certs.paths.server!.keyPath, httpsPort: 0, adminToken: 'an-admin-token-of-at-least-32-characters' });

		t.teardown(() => server.close());

		const httpsPort = server.address.httpsPort!;
		const health = await plainGet(`${httpUrl}/health`);

		t.is(health.status, 200);
		hasSecurityHeaders(t, health, 'GET /health', false);
		hasSecurityHeaders(t, await plainGet(`${httpUrl}/nope`), '404', false);
		hasSecurityHeaders(t, await plainGet(`${httpUrl}/health`, { method: 'DELETE' }), '405', false);
		hasSecurityHeaders(t, await httpsGet(httpsPort, '/health'), 'GET /health over TLS', true);
		hasSecurityHeaders(t, await httpsGet(httpsPort, '/nope'), '404 over TLS', true);

		// TLS on: the plain port refuses WebSockets (403), with the headers too.
		const plainUpgrade = await refusedUpgrade(`ws://127.0.0.1:${server.address.port}/`);

		t.is(plainUpgrade.status, 403);
		hasSecurityHeaders(t, plainUpgrade, 'refused upgrade', false);
		t.is((await refusedUpgrade(`wss://127.0.0.1:${httpsPort}/elsewhere`)).headers['strict-transport-security'], 'max-age=31536000');

		// The ops endpoints are gone from the signaling ports.
		for (const path of ['/metrics', '/admin/drain']) {
			t.is((await plainGet(`${httpUrl}${path}`)).status, 404, path);
			t.is((await httpsGet(httpsPort, path)).status, 404, `${path} over TLS`);
		}

		// The ops listener: the same headers, on loopback, no WebSockets.
		t.is(new URL(opsUrl).hostname, '127.0.0.1');
		for (const path of ['/health', '/metrics', '/nope']) {
			const answer = await plainGet(`${opsUrl}${path}`);

			t.is(answer.status, path === '/nope' ? 404 : 200, path);
			hasSecurityHeaders(t, answer, `ops ${path}`, false);
		}
		t.is((await plainGet(`${opsUrl}/admin/drain`, { method: 'POST' })).status, 401);
		t.is((await refusedUpgrade(`${opsUrl.replace('http', 'ws')}/`)).status, 404, 'the ops listener takes no WebSocket');
		t.is(server.health().status, 'healthy');
	});
}

test.serial('OPS_PORT=-1 disables the ops listener', async (t) => {
	const { server, httpUrl, opsUrl } = await startServer({ opsPort: -1 });

	t.teardown(() => server.close());
	t.is(server.ops, undefined);
	t.is(server.address.opsPort, undefined);
	t.is(opsUrl, '');
	t.is((await plainGet(`${httpUrl}/metrics`)).status, 404);
});

test.serial('ops routes: another module adds one; a path is taken once', async (t) => {
	const { server, opsUrl } = await startServer();

	t.teardown(() => server.close());
	server.ops!.route('/example', () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"added":1}' }));

	const res = await fetch(`${opsUrl}/example`);

	t.deepEqual(await res.json(), { added: 1 });
	t.is(res.headers.get('x-frame-options'), 'DENY');
	t.throws(() => server.ops!.route('/metrics', () => undefined), { name: 'OpsRouteTakenError' });
});
