// Types for the parts of protoo-client 4 (plain JavaScript, no types) that
// the browser client and the Node test client use. One file for both.

declare module 'protoo-client' {
	export interface RetryOptions {
		retries?: number;
		factor?: number;
		minTimeout?: number;
		maxTimeout?: number;
		randomize?: boolean;
	}

	export class WebSocketTransport {
		/** `origin` is honoured in Node only (browsers send their own). */
		constructor(url: string, options?: { retry?: RetryOptions; origin?: string });
		readonly closed: boolean;
		close(): void;
	}

	export interface ProtooNotification {
		notification: true;
		method: string;
		data: unknown;
	}

	export interface ProtooRequest {
		request: true;
		id: number;
		method: string;
		data: unknown;
	}

	/** What protoo-client rejects a request with on an error response. */
	export interface ProtooRequestError extends Error {
		code: number;
	}

	export class Peer {
		constructor(transport: WebSocketTransport);
		readonly closed: boolean;
		readonly connected: boolean;
		close(): void;
		request(method: string, data?: unknown): Promise<unknown>;
		notify(method: string, data?: unknown): Promise<void>;
		on(event: 'open' | 'disconnected' | 'close', listener: () => void): this;
		on(event: 'failed', listener: (currentAttempt: number) => void): this;
		on(event: 'notification', listener: (notification: ProtooNotification) => void): this;
		on(
			event: 'request',
			listener: (request: ProtooRequest, accept: (data?: unknown) => void, reject: (code: number, reason: string) => void) => void
		): this;
		once(event: 'open' | 'disconnected' | 'close', listener: () => void): this;
		once(event: 'failed', listener: (currentAttempt: number) => void): this;
		once(event: 'notification', listener: (notification: ProtooNotification) => void): this;
	}

	/** Node's CommonJS view of the package (`import protooClient from 'protoo-client'`). */
	const protooClient: { WebSocketTransport: typeof WebSocketTransport; Peer: typeof Peer };
	export default protooClient;
}
