// protoo-client ships no types; these cover what the tests use.
declare module 'protoo-client' {
	import { EventEmitter } from 'node:events';

	class WebSocketTransport extends EventEmitter {
		constructor(url: string, options?: { retry?: Record<string, number>; origin?: string });
		close(): void;
		readonly closed: boolean;
	}

	class Peer extends EventEmitter {
		constructor(transport: WebSocketTransport);
		readonly closed: boolean;
		readonly connected: boolean;
		request(method: string, data?: unknown): Promise<any>;
		notify(method: string, data?: unknown): Promise<void>;
		close(): void;
	}

	const protooClient: { WebSocketTransport: typeof WebSocketTransport; Peer: typeof Peer };
	export default protooClient;
	export type { Peer, WebSocketTransport };
}
