// One client's protoo session over a WebSocket: parses frames, validates each
// request against its schema, hands it to the request handler and sends the
// response. It knows nothing of rooms.

import debugFactory from 'debug';
import { describeError, log } from '../log.js';
import { CloseCode, type WsConnection } from '../listener/types.js';
import { ErrorCode, RequestError } from './errors.js';
import { errorResponse, notification, parseMessage, successResponse } from './messages.js';
import { validateRequest, type NotificationMethod, type Notifications, type Request, type Responses } from './methods.js';

const debug = debugFactory('vcall:protocol');

/** What rooms see of a client connection: they only notify it or end it. */
export interface PeerChannel {
	readonly closed: boolean;
	notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void;
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

/** What a connection reports to whoever serves it. */
export interface ConnectionHandler {
	request: RequestHandler;
	/** Any frame arrived: the peer is alive. */
	activity?: () => void;
	/** A request was answered (for metrics). */
	answered?: (outcome: RequestOutcome) => void;
	closed?: () => void;
}

export class ProtooConnection implements PeerChannel {
	readonly #ws: WsConnection;
	readonly #handler: ConnectionHandler;
	#closed = false;

	/** `serve` is called once, at once, with this connection; it returns who handles its requests. */
	constructor(ws: WsConnection, serve: (channel: PeerChannel) => ConnectionHandler) {
		this.#ws = ws;
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
			case 'request':
				void this.#onRequest(parsed.message.id, parsed.message.method, parsed.message.data);
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

	async #onRequest(id: number, method: string, data: unknown): Promise<void> {
		const started = process.hrtime.bigint();
		let reply: string;
		let errorCode: number | undefined;

		try {
			const response = await this.#handler.request(validateRequest(method, data));

			reply = successResponse(id, response);
		} catch (error) {
			if (error instanceof RequestError) {
				errorCode = error.code;
				reply = errorResponse(id, error.code, error.message);
			} else {
				// Unexpected: log it whole, tell the client little.
				log.error(`request ${method} failed: ${describeError(error)}`);
				errorCode = ErrorCode.INTERNAL;
				reply = errorResponse(id, ErrorCode.INTERNAL, 'internal error');
			}
		}

		this.#handler.answered?.({ method, errorCode, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
		if (!this.#closed) this.#ws.send(reply);
	}
}
