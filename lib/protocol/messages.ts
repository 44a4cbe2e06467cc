// protoo's wire format (JSON text frames), parsed strictly. Anything that is
// not one of these shapes is a protocol violation, not a request.

export interface ProtooRequest {
	request: true;
	id: number;
	method: string;
	data: unknown;
}

export interface ProtooNotification {
	notification: true;
	method: string;
	data: unknown;
}

export type IncomingMessage =
	| { type: 'request'; message: ProtooRequest }
	/** A request refused before its data was looked at (too deeply nested). */
	| { type: 'refusedRequest'; id: number; method: string; reason: string }
	| { type: 'notification'; message: ProtooNotification }
	| { type: 'response' }
	| { type: 'invalid'; reason: string };

const MAX_METHOD_LENGTH = 64;

/**
 * Deepest nesting of objects and arrays accepted in a frame. Valid requests
 * need about 7 levels (rtpParameters.codecs[].parameters); anything walked
 * recursively later (validation, JSON.stringify of metadata) stays far from
 * the stack limit.
 */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether the JSON text nests deeper than `max`, found by one pass over the characters that stops early. */
export function nestsDeeperThan(text: string, max: number): boolean {
	let depth = 0;
	let inString = false;

	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);

		if (inString) {
			if (c === BACKSLASH) i++;
			else if (c === QUOTE) inString = false;
		} else if (c === QUOTE) inString = true;
		else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
			if (++depth > max) return true;
		} else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
	}

	return false;
}

/** protoo-client writes request, id and method first: enough to answer a frame whose body is refused unread. */
const REQUEST_HEAD = /^\s*\{\s*"request"\s*:\s*true\s*,\s*"id"\s*:\s*(\d{1,15})\s*,\s*"method"\s*:\s*"([A-Za-z]{1,64})"/;

function refuseTooDeep(text: string): IncomingMessage {
	const reason = `message nests deeper than ${MAX_JSON_DEPTH} levels`;
	const head = REQUEST_HEAD.exec(text);

	return head ? { type: 'refusedRequest', id: Number(head[1]), method: head[2]!, reason } : { type: 'invalid', reason };
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseMessage(text: string): IncomingMessage {
	let json: unknown;

	if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return refuseTooDeep(text);

	try {
		json = JSON.parse(text);
	} catch {
		return { type: 'invalid', reason: 'invalid JSON' };
	}

	if (!isObject(json)) return { type: 'invalid', reason: 'message is not a JSON object' };

	if (json.request === true) {
		const { id, method } = json;

		if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
			return { type: 'invalid', reason: 'request id must be a non-negative integer' };
		if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH)
			return { type: 'invalid', reason: 'request method must be a short string' };

		return { type: 'request', message: { request: true, id, method, data: json.data ?? {} } };
	}

	if (json.notification === true) {
		const { method } = json;

		if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH)
			return { type: 'invalid', reason: 'notification method must be a short string' };

		return { type: 'notification', message: { notification: true, method, data: json.data ?? {} } };
	}

	// The server sends no requests, so any response is unsolicited.
	if (json.response === true) return { type: 'response' };

	return { type: 'invalid', reason: 'not a protoo request, response or notification' };
}

export function successResponse(id: number, data: unknown): string {
	return JSON.stringify({ response: true, id, ok: true, data });
}

export function errorResponse(id: number, errorCode: number, errorReason: string): string {
	return JSON.stringify({ response: true, id, errorCode, errorReason });
}

export function notification(method: string, data: unknown): string {
	return JSON.stringify({ notification: true, method, data });
}

/**
 * A notification for several receivers (a room's fan-out): serialized and
 * UTF-8 encoded once, on first use, and the same bytes go to every socket.
 */
export class OutgoingNotification {
	readonly method: string;
	readonly data: unknown;
	#frame: Buffer | undefined;

	constructor(method: string, data: unknown) {
		this.method = method;
		this.data = data;
	}

	get frame(): Buffer {
		this.#frame ??= Buffer.from(notification(this.method, this.data));

		return this.#frame;
	}
}
