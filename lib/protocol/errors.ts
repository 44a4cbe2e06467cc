// Numeric error codes sent in protoo error responses (`errorCode`) and in
// `error` notifications (`code`). They are part of the public API: the README
// lists them. HTTP-like on purpose, so they read well in logs.

export const ErrorCode = {
	/** Parameters missing, of the wrong type, or out of range. */
	BAD_REQUEST: 400,
	/** rejoinRoom with a wrong peer id or reconnect token. */
	UNAUTHORIZED: 401,
	/** The id names an object of another peer or another room. */
	FORBIDDEN: 403,
	/** No such room, transport, producer or consumer. */
	NOT_FOUND: 404,
	/** No such method. */
	UNKNOWN_METHOD: 405,
	/** Request out of order (e.g. produce before joining, joining twice). */
	INVALID_STATE: 409,
	/** The room already holds MAX_PEERS_PER_ROOM peers. */
	ROOM_FULL: 429,
	/** In an `error` notification: a data producer sent more than DATA_MESSAGES_PER_SECOND; it is paused for the rest of the second. */
	RATE_LIMITED: 429,
	/** mediasoup refused the operation (e.g. incompatible RTP parameters). */
	MEDIA_ERROR: 488,
	/** Unexpected server error; the request had no effect that matters. */
	INTERNAL: 500,
	/** The server is shutting down or draining and takes no new rooms. */
	UNAVAILABLE: 503
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error meant for the client: its code and message go on the wire. */
export class RequestError extends Error {
	readonly code: ErrorCode;

	constructor(code: ErrorCode, message: string) {
		super(message);
		this.name = 'RequestError';
		this.code = code;
	}
}

export function notFound(message: string): RequestError {
	return new RequestError(ErrorCode.NOT_FOUND, message);
}

export function forbidden(message: string): RequestError {
	return new RequestError(ErrorCode.FORBIDDEN, message);
}

export function invalidState(message: string): RequestError {
	return new RequestError(ErrorCode.INVALID_STATE, message);
}
