// Types for the parts of protoo-client 4 (plain JavaScript, no types) the
// browser client uses.

declare module 'protoo-client' {
	export interface RetryOptions {
		retries?: number;
		factor?: number;
		minTimeout?: number;
		maxTimeout?: number;
		randomize?: boolean;
	}

	export class WebSocketTransport {
		constructor(url: string, options?: { retry?: RetryOptions });
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
	}
}
