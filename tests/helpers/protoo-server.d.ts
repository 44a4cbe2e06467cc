// protoo-server ships no types; these cover what the comparison server uses.
declare module 'protoo-server' {
	import { EventEmitter } from 'node:events';
	import type { IncomingMessage, Server as HttpServer } from 'node:http';
	import type { Socket } from 'node:net';

	interface ProtooRequest {
		request: true;
		id: number;
		method: string;
		data: unknown;
	}

	class WebSocketTransport extends EventEmitter {
		readonly closed: boolean;
		close(): void;
	}

	class Peer extends EventEmitter {
		readonly id: string;
		readonly closed: boolean;
		notify(method: string, data?: unknown): Promise<void>;
		close(): void;
		on(event: 'request', listener: (request: ProtooRequest, accept: (data?: unknown) => void, reject: (code: number, reason: string) => void) => void): this;
		on(event: 'close', listener: () => void): this;
		on(event: 'notification', listener: (notification: unknown) => void): this;
	}

	class Room extends EventEmitter {
		readonly peers: Peer[];
		createPeer(peerId: string, transport: WebSocketTransport): Peer;
		close(): void;
	}

	interface ConnectionInfo {
		request: IncomingMessage;
		origin: string;
		socket: Socket;
	}

	class WebSocketServer extends EventEmitter {
		constructor(httpServer: HttpServer, options?: Record<string, unknown>);
		stop(): void;
		on(
			event: 'connectionrequest',
			listener: (info: ConnectionInfo, accept: () => WebSocketTransport, reject: (code?: number, reason?: string) => void) => void
		): this;
	}

	const protooServer: { version: string; Room: typeof Room; WebSocketServer: typeof WebSocketServer };
	export default protooServer;
	export type { ProtooRequest, Peer, Room, WebSocketServer, WebSocketTransport, ConnectionInfo };
}
