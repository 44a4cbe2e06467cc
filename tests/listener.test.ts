// Both listeners against the same contract tests. uWebSockets.js only loads
// with glibc >= 2.38, so on older machines its tests are skipped and say why
// (CI runs them in a Debian 13 root: scripts/test-uws.sh).

import { X509Certificate } from 'node:crypto';
import { readFile, rm, copyFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import test, { type ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { addressFromBytes, normalizeAddress, splitProtocols, truncateReason } from '../lib/listener/common.js';
import { createListener, uwsLoadError } from '../lib/listener/index.js';
import type { HttpRequest, HttpResponse, Listener, ListenerKind, ListenerOptions, UpgradeRequest, WsConnection } from '../lib/listener/types.js';
import { selfSignedCerts } from './helpers/certs.js';
import { availableListeners, freePort } from './helpers/listeners.js';

const HOST = '127.0.0.1';
const MAX_MESSAGE_BYTES = 1024;

const uwsError = await uwsLoadError();
const kinds: ListenerKind[] = ['uws', 'node'];
const { kinds: available, skipped } = await availableListeners();

/** Values pushed by callbacks, taken in order by tests. */
class Queue<T> {
	readonly #items: T[] = [];
	readonly #waiters: ((item: T) => void)[] = [];

	push(item: T): void {
		const waiter = this.#waiters.shift();

		if (waiter) waiter(item);
		else this.#items.push(item);
	}

	/** Items pushed and not taken yet. */
	get pending(): number {
		return this.#items.length;
	}

	next(): Promise<T> {
		const item = this.#items.shift();

		if (item !== undefined) return Promise.resolve(item);

		return new Promise((resolve) => this.#waiters.push(resolve));
	}
}

/** Budgets and timeouts far from what these tests reach. */
const LIMITS = { maxBufferedTotal: 1 << 30, httpTimeouts: { headers: 10, request: 30, keepAlive: 5 } };

/** A server-side connection with its callbacks recorded. */
interface ServerSide {
	conn: WsConnection;
	messages: Queue<string>;
	closes: { code: number; reason: string }[];
	closed: Promise<{ code: number; reason: string }>;
}

/** Loopback on free ports, no TLS, the test limits: what every listener here starts from. */
const BASE_OPTIONS = { host: HOST, port: 0, httpsPort: 0, tls: undefined, maxMessageBytes: MAX_MESSAGE_BYTES, ...LIMITS } satisfies Partial<ListenerOptions>;

interface Started {
	listener: Listener;
	port: number;
	httpsPort: number | undefined;
	httpRequests: HttpRequest[];
	upgrades: UpgradeRequest[];
	connections: Queue<ServerSide>;
}

async function start(t: ExecutionContext, kind: ListenerKind, overrides: Partial<ListenerOptions> = {}): Promise<Started> {
	const httpRequests: HttpRequest[] = [];
	const upgrades: UpgradeRequest[] = [];
	const connections = new Queue<ServerSide>();
	const opts: ListenerOptions = {
		...BASE_OPTIONS,
		http: (req): HttpResponse => {
			httpRequests.push(req);

			if (req.path === '/health') {
				return { status: 200, headers: { 'content-type': 'application/json', 'x-listener': kind }, body: '{"ok":true}' };
			}

			return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
		},
		upgrade: (req) => {
			upgrades.push(req);

			if (req.origin === 'https://evil.example') return { accept: false, status: 403, reason: 'origin not allowed' };

			return { accept: true, protocol: req.protocols.includes('protoo') ? 'protoo' : '' };
		},
		connection: (conn) => {
			const messages = new Queue<string>();
			const closes: { code: number; reason: string }[] = [];
			let resolveClosed: (value: { code: number; reason: string }) => void;
			const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));

			conn.onMessage = (text) => {
				messages.push(text);
				if (text.startsWith('echo ')) conn.send(`echoed ${text.slice(5)}`);
			};
			conn.onClose = (code, reason) => {
				closes.push({ code, reason });
				resolveClosed({ code, reason });
			};
			connections.push({ conn, messages, closes, closed });
		},
		...overrides
	};
	const { listener, reason } = await createListener(kind, opts);

	t.is(listener.kind, kind);
	t.log(`listener: ${reason}`);
	t.teardown(() => listener.close());

	const { port, httpsPort } = await listener.listen();

	return { listener, port, httpsPort, httpRequests, upgrades, connections };
}

/** Opens a client; resolves on 'open'. */
function connect(url: string, protocols: string[] = ['protoo'], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, protocols, options);

		ws.once('open', () => {
			ws.off('error', reject);
			resolve(ws);
		});
		ws.once('error', reject);
	});
}

/** Opens a client that the server is expected to refuse; resolves with the HTTP response. */
function connectRefused(url: string, options: WebSocket.ClientOptions): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, options);

		ws.once('open', () => reject(new Error('upgrade unexpectedly accepted')));
		ws.on('error', () => {});
		ws.once('unexpected-response', (req, res) => {
			let body = '';

			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.once('end', () => {
				req.destroy();
				resolve({ status: res.statusCode ?? 0, body });
			});
		});
	});
}

function nextMessage(ws: WebSocket): Promise<string> {
	return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
}

function closedEvent(ws: WebSocket): Promise<{ code: number; reason: string }> {
	return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
}

// Two throwaway certificates, made once for the whole file.
let certsPromise: Promise<{ dir: string; first: string; second: string }> | undefined;

function certs(): Promise<{ dir: string; first: string; second: string }> {
	certsPromise ??= selfSignedCerts(['first', 'second']).then(({ dir }) => ({ dir, first: path.join(dir, 'first'), second: path.join(dir, 'second') }));

	return certsPromise;
}

test.after.always(async () => {
	if (certsPromise) await rm((await certsPromise).dir, { recursive: true, force: true });
});

async function fingerprint(file: string): Promise<string> {
	return new X509Certificate(await readFile(file)).fingerprint256;
}

/** Fingerprint of the certificate a fresh TLS connection is shown. */
function servedFingerprint(port: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: HOST, port, rejectUnauthorized: false, servername: 'localhost' }, () => {
			resolve(socket.getPeerCertificate().fingerprint256);
			socket.destroy();
		});

		socket.once('error', reject);
	});
}

/** GET over HTTPS; `reused` says whether an agent's kept-alive connection carried it. */
function httpsGet(port: number, urlPath: string, agent: https.Agent | false = false): Promise<{ status: number; body: string; reused: boolean }> {
	return new Promise((resolve, reject) => {
		const req = https
			.get({ host: HOST, port, path: urlPath, rejectUnauthorized: false, agent }, (res) => {
				let body = '';

				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (body += chunk));
				res.once('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
			})
			.once('error', reject);
	});
}

test('listeners available on this machine', (t) => {
	t.log(`running: ${available.join(', ')}`);
	for (const line of skipped) t.log(line);
	t.true(available.includes(process.env.LISTENER === 'uws' ? 'uws' : 'node'));
});

test('createListener picks and explains', async (t) => {
	const opts: ListenerOptions = {
		...BASE_OPTIONS,
		http: () => ({ status: 204, headers: {}, body: '' }),
		upgrade: () => ({ accept: false, status: 403, reason: 'no' }),
		connection: () => {}
	};
	const auto = await createListener('auto', opts);

	t.log(`auto: ${auto.reason}`);
	t.false(auto.reason.includes('\n'));

	if (uwsError) {
		t.is(auto.listener.kind, 'node');
		t.regex(auto.reason, /^uWebSockets\.js failed to load: .+; using node:http \+ ws$/);
		t.false(uwsError.includes('\n'));

		const error = await t.throwsAsync(createListener('uws', opts));

		t.true(error.message.includes(uwsError));
		t.log(`uws forced: ${error.message}`);
	} else {
		t.is(auto.listener.kind, 'uws');
		t.is((await createListener('uws', opts)).listener.kind, 'uws');
	}

	t.is((await createListener('node', opts)).listener.kind, 'node');
});

test('address, reason and protocol helpers', (t) => {
	t.is(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
	t.is(normalizeAddress('::1'), '::1');
	t.is(normalizeAddress('10.0.0.1'), '10.0.0.1');
	t.is(addressFromBytes(new Uint8Array([127, 0, 0, 1]).buffer), '127.0.0.1');
	t.is(addressFromBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2]).buffer), '192.168.1.2');
	t.is(addressFromBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).buffer), '::1');
	t.is(
		addressFromBytes(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x42]).buffer),
		'2001:db8::42'
	);
	t.deepEqual(splitProtocols(' protoo , foo,,bar '), ['protoo', 'foo', 'bar']);
	t.deepEqual(splitProtocols(''), []);

	const long = 'é'.repeat(100);

	t.true(Buffer.byteLength(truncateReason(long)) <= 123);
	t.is(truncateReason(long), 'é'.repeat(61));
	t.is(truncateReason('short'), 'short');
});

for (const kind of kinds) {
	if (!available.includes(kind)) {
		// One skipped test per listener left out, with the reason in its title.
		test.skip(`${kind}: ${skipped.join('; ')}`, (t) => t.pass());

		continue;
	}

	test(`${kind}: HTTP GET routing`, async (t) => {
		const s = await start(t, kind);
		const ok = await fetch(`http://${HOST}:${s.port}/health?verbose=1`, { headers: { 'X-Custom': 'abc' } });

		t.is(ok.status, 200);
		t.is(ok.headers.get('content-type'), 'application/json');
		t.is(ok.headers.get('x-listener'), kind);
		t.is(await ok.text(), '{"ok":true}');

		const missing = await fetch(`http://${HOST}:${s.port}/nope`);

		t.is(missing.status, 404);
		t.is(await missing.text(), 'not found');

		const head = await fetch(`http://${HOST}:${s.port}/health`, { method: 'HEAD' });

		t.is(head.status, 200);
		t.is(await head.text(), '');

		t.is(s.httpRequests[0]?.method, 'GET');
		t.is(s.httpRequests[0]?.path, '/health');
		t.is(s.httpRequests[0]?.headers['x-custom'], 'abc');
		t.is(s.httpRequests[1]?.path, '/nope');
	});

	test(`${kind}: listen on a port in use rejects`, async (t) => {
		// A fixed port: uSockets sets SO_REUSEPORT only on those, which would let both bind.
		const first = await start(t, kind, { port: await freePort() });
		const { listener } = await createListener(kind, {
			host: HOST,
			port: first.port,
			httpsPort: 0,
			tls: undefined,
			maxMessageBytes: MAX_MESSAGE_BYTES,
			...LIMITS,
			http: () => ({ status: 204, headers: {}, body: '' }),
			upgrade: () => ({ accept: false, status: 403, reason: 'no' }),
			connection: () => {}
		});

		t.teardown(() => listener.close());

		const error = await t.throwsAsync(listener.listen());

		t.log(error.message);
		// The first one still serves.
		t.is((await fetch(`http://${HOST}:${first.port}/health`)).status, 200);
	});

	test(`${kind}: upgrade refused`, async (t) => {
		const s = await start(t, kind);
		const refused = await connectRefused(`ws://${HOST}:${s.port}/ws/room?roomId=r1&peerId=p1`, {
			origin: 'https://evil.example',
			headers: { 'Sec-WebSocket-Protocol': 'protoo , foo,bar' }
		});

		t.is(refused.status, 403);
		t.is(refused.body, 'origin not allowed');

		const req = s.upgrades[0]!;

		t.is(req.path, '/ws/room');
		t.is(req.origin, 'https://evil.example');
		t.deepEqual(req.protocols, ['protoo', 'foo', 'bar']);
		t.is(req.remoteAddress, '127.0.0.1');
		t.is(req.query.get('roomId'), 'r1');
		t.is(req.query.get('peerId'), 'p1');
	});

	test(`${kind}: upgrade accepted with protoo echoed, text round trip`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/?roomId=r1`);
		const server = await s.connections.next();

		t.is(ws.protocol, 'protoo');
		t.is(server.conn.remoteAddress, '127.0.0.1');
		t.is(s.upgrades[0]?.origin, '');

		const reply = nextMessage(ws);

		ws.send('echo héllo ✓');
		t.is(await reply, 'echoed héllo ✓');
		t.is(await server.messages.next(), 'echo héllo ✓');

		// The largest allowed message still gets through.
		const big = 'echo ' + 'x'.repeat(MAX_MESSAGE_BYTES - 5);
		const bigReply = nextMessage(ws);

		ws.send(big);
		t.is(await bigReply, `echoed ${'x'.repeat(MAX_MESSAGE_BYTES - 5)}`);

		// Server-initiated sends work too.
		const pushed = nextMessage(ws);

		t.true(server.conn.send('{"notification":true}'));
		t.is(await pushed, '{"notification":true}');
		ws.close();
	});

	test(`${kind}: no subprotocol offered, none echoed`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`, []);

		t.is(ws.protocol, '');
		ws.close();
	});

	test(`${kind}: server close(4000, reason) reaches the client`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();
		const clientClosed = closedEvent(ws);

		server.conn.close(4000, 'room closed');
		t.false(server.conn.send('too late'));
		t.deepEqual(await clientClosed, { code: 4000, reason: 'room closed' });
		await server.closed;
		t.is(server.closes.length, 1);
		t.false(server.conn.send('still too late'));
	});

	test(`${kind}: client close calls onClose exactly once`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();
		const clientClosed = closedEvent(ws);

		ws.close(1000, 'bye');
		t.deepEqual(await server.closed, { code: 1000, reason: 'bye' });
		await clientClosed;
		t.false(server.conn.send('gone'));
		server.conn.close(4000, 'after the fact');
		// close() waits for every connection's onClose, so a second call would show here.
		await s.listener.close();
		t.is(server.closes.length, 1);
	});

	test(`${kind}: messages sent in the tick the listener closes still arrive, in order`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();
		const received: string[] = [];

		ws.on('message', (data: Buffer) => received.push(data.toString('utf8')));

		const clientClosed = closedEvent(ws);

		// As at shutdown: roomClosed to every peer, then every socket dropped.
		t.true(server.conn.send('one'));
		t.true(server.conn.send('two'));
		await s.listener.close();
		await clientClosed;
		t.deepEqual(received, ['one', 'two']);
	});

	test(`${kind}: oversize message closes the connection`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();
		const clientClosed = closedEvent(ws);

		ws.on('error', () => {});
		ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1));

		const { code } = await clientClosed;

		t.log(`client saw close code ${code}`);
		// ws sends 1009; uWS drops the TCP connection (1006 on the client).
		t.true(code === 1009 || code === 1006);
		await server.closed;
		t.is(server.closes.length, 1);
	});

	test(`${kind}: binary frame closes with 4000`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();
		const clientClosed = closedEvent(ws);

		ws.send(Buffer.from([1, 2, 3]));
		t.deepEqual(await clientClosed, { code: 4000, reason: 'binary frames not supported' });
		await server.closed;
		t.is(server.messages.pending, 0, 'the binary frame reached onMessage');
	});

	test(`${kind}: stopAccepting refuses new connections, keeps existing ones`, async (t) => {
		const s = await start(t, kind);
		const ws = await connect(`ws://${HOST}:${s.port}/`);
		const server = await s.connections.next();

		s.listener.stopAccepting();

		const error = await t.throwsAsync(connect(`ws://${HOST}:${s.port}/`));

		t.regex(error.message, /ECONNREFUSED/);

		const reply = nextMessage(ws);

		ws.send('echo still here');
		t.is(await reply, 'echoed still here');

		// close() ends the survivor too.
		const clientClosed = closedEvent(ws);

		await s.listener.close();
		await clientClosed;
		t.is(server.closes.length, 1);
	});

	test(`${kind}: TLS round trip and reloadTls`, async (t) => {
		const { dir, first, second } = await certs();
		// The listener reads these paths; reloading means new files at the same paths.
		const live = path.join(dir, `${kind}-live`);

		await copyFile(`${first}-cert.pem`, `${live}-cert.pem`);
		await copyFile(`${first}-key.pem`, `${live}-key.pem`);

		const s = await start(t, kind, { tls: { certPath: `${live}-cert.pem`, keyPath: `${live}-key.pem` } });

		t.truthy(s.httpsPort);
		t.not(s.httpsPort, s.port);

		const httpsPort = s.httpsPort!;
		const wss = await connect(`wss://${HOST}:${httpsPort}/`, ['protoo'], { rejectUnauthorized: false });
		const server = await s.connections.next();
		// One TLS connection kept alive across the reload, for HTTP requests.
		const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 });

		t.teardown(() => keepAlive.destroy());
		t.is(wss.protocol, 'protoo');

		const reply = nextMessage(wss);

		wss.send('echo over tls');
		t.is(await reply, 'echoed over tls');
		t.deepEqual(await httpsGet(httpsPort, '/health', keepAlive), { status: 200, body: '{"ok":true}', reused: false });
		t.is(await servedFingerprint(httpsPort), await fingerprint(`${first}-cert.pem`));

		await copyFile(`${second}-cert.pem`, `${live}-cert.pem`);
		await copyFile(`${second}-key.pem`, `${live}-key.pem`);

		await s.listener.reloadTls();
		t.is(await servedFingerprint(httpsPort), await fingerprint(`${second}-cert.pem`));
		t.deepEqual(await httpsGet(httpsPort, '/health'), { status: 200, body: '{"ok":true}', reused: false });

		// The connections made before the reload are untouched, both ways.
		const again = nextMessage(wss);

		wss.send('echo after reload');
		t.is(await again, 'echoed after reload');

		const pushed = nextMessage(wss);

		t.true(server.conn.send('pushed after reload'));
		t.is(await pushed, 'pushed after reload');
		t.deepEqual(await httpsGet(httpsPort, '/nope', keepAlive), { status: 404, body: 'not found', reused: true });

		const fresh = await connect(`wss://${HOST}:${httpsPort}/`, ['protoo'], { rejectUnauthorized: false });

		t.is(fresh.protocol, 'protoo');

		// A second renewal: back to the first pair.
		await copyFile(`${first}-cert.pem`, `${live}-cert.pem`);
		await copyFile(`${first}-key.pem`, `${live}-key.pem`);
		await s.listener.reloadTls();
		t.is(await servedFingerprint(httpsPort), await fingerprint(`${first}-cert.pem`));

		// close() ends the connections of every certificate generation.
		const closes = [closedEvent(wss), closedEvent(fresh)];

		await s.listener.close();
		await Promise.all(closes);
		t.pass();
	});

	test(`${kind}: reloadTls while draining keeps the HTTPS port closed`, async (t) => {
		const { dir, first } = await certs();
		const live = path.join(dir, `${kind}-draining`);

		await copyFile(`${first}-cert.pem`, `${live}-cert.pem`);
		await copyFile(`${first}-key.pem`, `${live}-key.pem`);

		const s = await start(t, kind, { tls: { certPath: `${live}-cert.pem`, keyPath: `${live}-key.pem` } });
		const wss = await connect(`wss://${HOST}:${s.httpsPort!}/`, ['protoo'], { rejectUnauthorized: false });

		s.listener.stopAccepting();
		await s.listener.reloadTls();

		const error = await t.throwsAsync(servedFingerprint(s.httpsPort!));

		t.regex(error.message, /ECONNREFUSED/);

		const reply = nextMessage(wss);

		wss.send('echo still here');
		t.is(await reply, 'echoed still here');
	});

	test(`${kind}: reloadTls rejects a broken key and keeps serving`, async (t) => {
		const { dir, first, second } = await certs();
		const live = path.join(dir, `${kind}-broken`);

		await copyFile(`${first}-cert.pem`, `${live}-cert.pem`);
		await copyFile(`${first}-key.pem`, `${live}-key.pem`);

		const s = await start(t, kind, { tls: { certPath: `${live}-cert.pem`, keyPath: `${live}-key.pem` } });

		// A certificate that does not match the key must not replace a working pair.
		await copyFile(`${second}-cert.pem`, `${live}-cert.pem`);
		await t.throwsAsync(s.listener.reloadTls(), { message: /unusable TLS certificate/ });
		t.is(await servedFingerprint(s.httpsPort!), await fingerprint(`${first}-cert.pem`));
	});
}
