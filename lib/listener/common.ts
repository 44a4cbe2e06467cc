// Small pieces both listeners share, so that the two behave the same where the
// contract does not say how: addresses, close reasons, refusals, and what
// happens when a consumer callback throws.

import { securityHeaders } from '../http/security-headers.js';
import { describeError, log } from '../log.js';
import { readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { createSecureContext } from 'node:tls';
import { CloseCode, type HttpHandler, type HttpRequest, type HttpResponse, type TlsOptions, type UpgradeDecision, type UpgradeRequest } from './types.js';

/**
 * Largest amount of unsent data a slow client may pile up. Signaling frames
 * are small (a few KiB each), so 1 MiB means the client has stopped reading;
 * dropping one frame would desynchronize protoo, so such a socket is closed
 * instead and the client reconnects.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** How often the total of unsent bytes is checked against the budget. */
export const BUFFER_BUDGET_INTERVAL_MS = 250;

interface Buffering {
	bufferedAmount(): number;
	terminate(): void;
}

/**
 * Keeps the unsent bytes of all sockets under `budget` by dropping the
 * sockets holding most (clients that stopped reading); returns how many were
 * dropped. One pass over the sockets: cheap even for 10,000 of them.
 */
export function enforceBufferBudget(connections: Iterable<Buffering>, budget: number): number {
	let total = 0;
	const holders: { connection: Buffering; bytes: number }[] = [];

	for (const connection of connections) {
		const bytes = connection.bufferedAmount();

		total += bytes;
		if (bytes > 0) holders.push({ connection, bytes });
	}
	if (total <= budget) return 0;

	holders.sort((a, b) => b.bytes - a.bytes);

	let dropped = 0;

	for (const { connection, bytes } of holders) {
		if (total <= budget) break;
		connection.terminate();
		total -= bytes;
		dropped++;
	}

	return dropped;
}

/** Our protocol is JSON text; a binary frame means a foreign client. */
export const BINARY_FRAME_CLOSE = { code: CloseCode.FINAL, reason: 'binary frames not supported' } as const;

/** A close frame carries at most 123 bytes of reason. */
const MAX_CLOSE_REASON_BYTES = 123;

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** '::ffff:1.2.3.4' (IPv4 on a dual-stack socket) reads better as '1.2.3.4'. */
export function normalizeAddress(address: string): string {
	return IPV4_MAPPED.exec(address)?.[1] ?? address;
}

/**
 * Formats a binary address (4 bytes IPv4, 16 bytes IPv6) as text, with
 * IPv4-mapped IPv6 addresses shown as IPv4 and IPv6 in canonical short form.
 */
export function addressFromBytes(bytes: ArrayBuffer): string {
	const b = new Uint8Array(bytes);

	if (b.length === 4) return b.join('.');
	if (b.length !== 16) return '';

	const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

	if (mapped) return b.subarray(12).join('.');

	const groups: string[] = [];

	for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));

	// The WHATWG URL parser serializes IPv6 hosts in RFC 5952 form (zeros compressed).
	return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Truncates a close reason to what fits in a close frame, on a character boundary. */
export function truncateReason(reason: string): string {
	if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;

	let out = '';
	let bytes = 0;

	for (const char of reason) {
		const size = Buffer.byteLength(char);

		if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
		out += char;
		bytes += size;
	}

	return out;
}

/** Splits a Sec-WebSocket-Protocol header value. */
export function splitProtocols(header: string): string[] {
	return header
		.split(',')
		.map((p) => p.trim())
		.filter((p) => p.length > 0);
}

/** '404 Not Found'. */
export function statusLine(status: number): string {
	return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** Runs a consumer callback; a throw is logged, never allowed to unwind into the socket library. */
export function safeCall(what: string, fn: () => void): boolean {
	try {
		fn();

		return true;
	} catch (error) {
		log.error(`listener: ${what} threw: ${describeError(error)}`);

		return false;
	}
}

/** Runs the HTTP handler; the answer, a 500 included, carries the security headers (`secure`: it goes out over TLS). */
export async function handleHttp(handler: HttpHandler, request: HttpRequest, secure: boolean): Promise<HttpResponse> {
	let response: HttpResponse;

	try {
		response = await handler(request);
	} catch (error) {
		log.error(`listener: HTTP handler threw for ${request.method} ${request.path}: ${describeError(error)}`);
		response = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'internal error' };
	}

	return { ...response, headers: { ...securityHeaders({ secure }), ...response.headers } };
}

/** The headers of a refused WebSocket upgrade (a plain-text HTTP answer). */
export function refusalHeaders(secure: boolean): Record<string, string> {
	return { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders({ secure }) };
}

export function decideUpgrade(
	upgrade: (req: UpgradeRequest) => UpgradeDecision,
	request: UpgradeRequest,
	accepting: boolean
): UpgradeDecision {
	// A keep-alive HTTP connection opened before stopAccepting() could still upgrade.
	if (!accepting) return { accept: false, status: 503, reason: 'server is not accepting connections' };

	try {
		return upgrade(request);
	} catch (error) {
		log.error(`listener: upgrade handler threw for ${request.path}: ${describeError(error)}`);

		return { accept: false, status: 500, reason: 'internal error' };
	}
}

/**
 * Reads the certificate and key and checks that they form a usable pair, so
 * that a bad file is reported with OpenSSL's reason instead of a generic
 * failure later.
 */
export async function loadTls(tls: TlsOptions): Promise<{ cert: Buffer; key: Buffer }> {
	const [cert, key] = await Promise.all([readFile(tls.certPath), readFile(tls.keyPath)]);

	try {
		createSecureContext({ cert, key });
	} catch (error) {
		throw new Error(`unusable TLS certificate/key (${tls.certPath}, ${tls.keyPath}): ${(error as Error).message}`, {
			cause: error
		});
	}

	return { cert, key };
}
