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
	| { type: 'notification'; message: ProtooNotification }
	| { type: 'response' }
	| { type: 'invalid'; reason: string };

const MAX_METHOD_LENGTH = 64;

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseMessage(text: string): IncomingMessage {
	let json: unknown;

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
