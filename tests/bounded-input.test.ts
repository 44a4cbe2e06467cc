// Bounded input: deep nesting is refused before anything walks it, media
// parameters are bounded in size and shape, mediasoup's own error text is not
// echoed, and a peer gets one consumer per producer (never of its own).

import test from 'ava';
import type { ProtooRequestError } from 'protoo-client';
import { aliceAndBob, errorCodeOf } from './helpers/client.js';
import { availableListeners } from './helpers/listeners.js';
import { RawClient } from './helpers/raw.js';
import { startServer } from './helpers/server.js';
import { RateLimitedLog } from '../lib/log.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/protocol/messages.js';

const { kinds } = await availableListeners();

/** Collects what the process writes to stderr (the error log) while `fn` runs. */
async function stderrDuring(fn: () => void | Promise<void>): Promise<string> {
	const original = process.stderr.write.bind(process.stderr);
	let written = '';

	process.stderr.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
		written += String(chunk);

		return original(chunk, ...rest);
	}) as typeof process.stderr.write;
	try {
		await fn();
	} finally {
		process.stderr.write = original;
	}

	return written;
}

test('the depth scan ignores brackets inside strings and stops at the limit', (t) => {
	t.false(nestsDeeperThan(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' }), MAX_JSON_DEPTH));
	t.false(nestsDeeperThan(JSON.stringify({ a: 'quote \\" [[[[' }), 3));
	t.true(nestsDeeperThan('['.repeat(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH));
	t.false(nestsDeeperThan('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), MAX_JSON_DEPTH));
});

test('the error log keeps a few lines per source and window, then says how many it dropped', async (t) => {
	const log = new RateLimitedLog(2, 1000);
	const written = await stderrDuring(() => {
		for (let i = 0; i < 10; i++) log.error('1.2.3.4', `line ${i}`, 0);
		log.error('5.6.7.8', 'other source', 0);
		log.error('1.2.3.4', 'next window', 1000);
	});
	const lines = written.split('\n').filter(Boolean);

	t.is(lines.length, 5);
	t.regex(lines[2]!, /other source/);
	t.regex(lines[3]!, /8 more errors from 1\.2\.3\.4 were not logged/);
	t.regex(lines[4]!, /next window/);
});

for (const listener of kinds) {
	test.serial(`[${listener}] a 120 KB deeply nested frame gets 400 without an error log line`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());

		const raw = await RawClient.open(url);

		t.teardown(() => raw.ws.terminate());

		const deep = '['.repeat(60_000) + ']'.repeat(60_000);
		const frame = `{"request":true,"id":7,"method":"createRoom","data":{"metadata":{"x":${deep}}}}`;
		let response: any;
		const written = await stderrDuring(async () => {
			raw.ws.send(frame);
			response = await raw.next((m) => m.response && m.id === 7);
		});

		t.true(frame.length > 120_000);
		t.is(response.errorCode, 400);
		t.regex(response.errorReason, /nests deeper than 32 levels/);
		t.is(written, '', 'nothing logged');
		t.is(server.rooms.roomCount, 0);

		// A deep frame whose id cannot be read cheaply gets an error notification.
		raw.ws.send(`{"data":${deep},"request":true,"id":8,"method":"heartbeat"}`);
		t.is((await raw.next((m) => m.notification && m.method === 'error')).data.code, 400);
		t.true((await raw.request('heartbeat', {})).ok, 'the socket is still usable');
	});

	test.serial(`[${listener}] media parameters are bounded; mediasoup's text is not echoed; one consumer per producer`, async (t) => {
		const { server, url } = await startServer({ listener });

		t.teardown(() => server.close());

		const { alice, bob } = await aliceAndBob(t, url, { media: true });

		const transportId = alice.sendTransport!.id;
		const opus = { mimeType: 'audio/opus', clockRate: 48000, payloadType: 100, channels: 2 };
		const produce = (rtpParameters: unknown) => alice.untypedRequest('produce', { roomId: alice.roomId, transportId, kind: 'audio', rtpParameters });
		const refused = async (rtpParameters: unknown, field: RegExp) => {
			const error = (await produce(rtpParameters).catch((e: unknown) => e)) as ProtooRequestError;

			t.is(error.code, 400);
			t.regex(error.message, field);
		};

		await refused({ codecs: [opus], headerExtensions: [{ uri: 'urn:x', id: 0 }] }, /headerExtensions\.0\.id/);
		await refused({ codecs: [opus], headerExtensions: [{ uri: 'urn:x', id: 256 }] }, /headerExtensions\.0\.id/);
		await refused({ codecs: [{ ...opus, parameters: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }] }, /codecs\.0\.parameters/);
		await refused({ codecs: [{ ...opus, parameters: { nested: { deeper: true } } }] }, /codecs\.0\.parameters/);
		await refused({ codecs: [{ ...opus, rtcpFeedback: Array(17).fill({ type: 'nack' }) }] }, /codecs\.0\.rtcpFeedback/);
		await refused({ codecs: [opus], encodings: Array(9).fill({ ssrc: 1 }) }, /encodings/);
		await refused({ codecs: [opus], encodings: [{ ssrc: 1, rid: 'r'.repeat(100) }] }, /encodings\.0\.rid/);
		await refused({ codecs: [opus], rtcp: { cname: 'c'.repeat(1000) } }, /rtcp\.cname/);

		// A payload in unknown fields is dropped, not passed on.
		const video = { mimeType: 'video/NOPE', clockRate: 90000, payloadType: 101 };
		const error = (await produce({ codecs: [video], encodings: [{ ssrc: 1, junk: 'x'.repeat(50_000) }] }).catch((e: unknown) => e)) as ProtooRequestError;

		t.is(error.code, 488);
		t.is(error.message, 'mediasoup refused rtpParameters', "mediasoup's own text stays in the debug log");
		t.is(server.health().media.producers, 0);

		const producer = await alice.produce('audio', { source: 'mic' });

		t.is(await errorCodeOf(alice.roomRequest('consume', { producerId: producer.id, rtpCapabilities: alice.device.rtpCapabilities })), 403, 'own producer');
		await bob.consume(producer.id);
		t.is(await errorCodeOf(bob.roomRequest('consume', { producerId: producer.id, rtpCapabilities: bob.device.rtpCapabilities })), 409, 'second consumer of one producer');
		t.is(server.health().media.consumers, 1);
	});
}
