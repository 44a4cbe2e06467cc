// One client's protoo session over a WebSocket: parses frames, validates each
// request against its schema, hands it to the request handler and sends the
// response. It knows nothing of rooms.

import debugFactory from 'debug';
import { describeError, RateLimitedLog } from '../log.js';
import { CloseCode, type WsConnection } from '../listener/types.js';
import { TokenBucket } from '../limits/TokenBucket.js';
import { ErrorCode, rateLimited, RequestError } from './errors.js';
import { errorResponse, notification, parseMessage, successResponse, type OutgoingNotification } from './messages.js';
import { validateRequest, type NotificationMethod, type Notifications, type Request, type Responses } from './methods.js';

const debug = debugFactory('vcall:protocol');

/** One client must not be able to flood the journal. */
const errorLog = new RateLimitedLog(5, 60_000);

/** What rooms see of a client connection: they only notify it or end it. */
export interface PeerChannel {
	readonly closed: boolean;
	notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void;
	/** Sends a notification built once for many receivers. */
	deliver(notification: OutgoingNotification): void;
	/** Ends the connection for good (the client will not reconnect by itself). */
	close(reason: string): void;
}

export type RequestHandler = (request: Request) => Promise<Responses[Request['method']]>;

export interface RequestOutcome {
	method: string;
	/** undefined on success. */
	errorCode: number | undefined;
	/** Seconds from arrival to response. */
	seconds: number;
}

/** Per-connection request limits (REQUEST_RATE, REQUEST_BURST, MAX_REQUESTS_IN_FLIGHT). */
export interface RequestLimits {
	rate: number;
	burst: number;
	maxInFlight: number;
}

/** What a connection reports to whoever serves it. */
export interface ConnectionHandler {
	request: RequestHandler;
	/** Any frame arrived: the peer is alive. */
	activity?: () => void;
	/** A request was answered (for metrics). */
	answered?: (outcome: RequestOutcome) => void;
	/** The connection is being closed for flooding (it kept sending into an empty token bucket). */
	flooded?: () => void;
	closed?: () => void;
}

export class ProtooConnection implements PeerChannel {
	readonly #ws: WsConnection;
	readonly #handler: ConnectionHandler;
	readonly #limits: RequestLimits;
	readonly #bucket: TokenBucket;
	#inFlight = 0;
	/** Requests refused for want of tokens since the last one admitted. */
	#refusedInARow = 0;
	#closed = false;

	/** `serve` is called once, at once, with this connection; it returns who handles its requests. */
	constructor(ws: WsConnection, limits: RequestLimits, serve: (channel: PeerChannel) => ConnectionHandler) {
		this.#ws = ws;
		this.#limits = limits;
		this.#bucket = new TokenBucket(limits.rate, limits.burst);
		this.#handler = serve(this);
		ws.onMessage = (text) => this.#onMessage(text);
		ws.onClose = (code, reason) => {
			debug('closed by transport [code:%d, reason:%s]', code, reason);
			this.#markClosed();
		};
	}

	get closed(): boolean {
		return this.#closed;
	}

	notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void {
		if (this.#closed) return;
		this.#ws.send(notification(method, data));
	}

	deliver(outgoing: OutgoingNotification): void {
		if (this.#closed) return;
		this.#ws.send(outgoing.frame);
	}

	close(reason: string): void {
		if (this.#closed) return;
		this.#ws.close(CloseCode.FINAL, reason);
		this.#markClosed();
	}

	#markClosed(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#handler.closed?.();
	}

	#onMessage(text: string): void {
		if (this.#closed) return;
		this.#handler.activity?.();

		const parsed = parseMessage(text);

		switch (parsed.type) {
			case 'request': {
				const { id, method, data } = parsed.message;
				const refusal = this.#admit();

				if (refusal) this.#reply(method, id, process.hrtime.bigint(), refusal);
				else void this.#onRequest(id, method, data);
				break;
			}
			case 'refusedRequest':
				this.#reply(parsed.method, parsed.id, process.hrtime.bigint(), new RequestError(ErrorCode.BAD_REQUEST, parsed.reason));
				break;
			case 'notification':
				// Clients have nothing to notify the server of.
				this.notify('error', { code: ErrorCode.UNKNOWN_METHOD, message: `unknown notification ${parsed.message.method}` });
				break;
			case 'response':
				this.notify('error', { code: ErrorCode.BAD_REQUEST, message: 'unexpected response: the server sends no requests' });
				break;
			case 'invalid':
				debug('invalid frame: %s', parsed.reason);
				if (parsed.reason === 'invalid JSON') this.close('invalid JSON');
				else this.notify('error', { code: ErrorCode.BAD_REQUEST, message: parsed.reason });
				break;
		}
	}

	/** Why a request may not run now (over the rate, too many unanswered), or undefined. */
	#admit(): RequestError | undefined {
		if (!this.#bucket.take()) {
			// A client that keeps sending into an empty bucket is not going to slow down.
			if (++this.#refusedInARow >= this.#limits.burst) {
				this.#handler.flooded?.();
				this.close('request rate limit exceeded');
			}

			return rateLimited(`more than ${this.#limits.rate} requests per second`);
		}
		this.#refusedInARow = 0;
		if (this.#inFlight >= this.#limits.maxInFlight) return rateLimited(`more than ${this.#limits.maxInFlight} requests in flight`);

		return undefined;
	}

	async #onRequest(id: number, method: string, data: unknown): Promise<void> {
		const started = process.hrtime.bigint();
		let outcome: { data: unknown } | RequestError;

		this.#inFlight++;
		try {
			const request = validateRequest(method, data);

			outcome = { data: await this.#handler.request(request) };
		} catch (error) {
			if (error instanceof RequestError) outcome = error;
			else {
				// Unexpected: log it whole (at most a few lines a minute per client address), tell the client little.
				errorLog.error(this.#ws.remoteAddress, `request ${method} failed: ${describeError(error)}`);
				outcome = new RequestError(ErrorCode.INTERNAL, 'internal error');
			}
		} finally {
			this.#inFlight--;
		}
		this.#reply(method, id, started, outcome);
	}

	#reply(method: string, id: number, started: bigint, outcome: { data: unknown } | RequestError): void {
		const failed = outcome instanceof RequestError;

		this.#handler.answered?.({ method, errorCode: failed ? outcome.code : undefined, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
		if (this.#closed) return;
		this.#ws.send(failed ? errorResponse(id, outcome.code, outcome.message) : successResponse(id, outcome.data ?? {}));
	}
}
