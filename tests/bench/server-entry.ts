// The server under test, in a process of its own (started by
// lib/server-process.ts): either vcall's Server (our listener) or the
// protoo-server comparison stack, both on the same Rooms and WorkerPool code.
// argv[2] is a JSON BenchServerOptions. Talks to the runner over IPC:
// 'ready' once listening, then answers {id, cmd: 'inspect' | 'gc' | 'stop'}.

import { loadConfig } from '../../lib/config/load.js';
import type { ConfigInput } from '../../lib/config/options.js';
import type { WorkerPool } from '../../lib/media/WorkerPool.js';
import type { Rooms } from '../../lib/rooms/Rooms.js';
import { Server } from '../../server/Server.js';
import { healthOf, startProtooStack } from './protoo-stack.js';

export type StackKind = 'vcall' | 'protoo';

export interface BenchServerOptions {
	stack: StackKind;
	/** vcall only: which listener to force. */
	listener: 'node' | 'uws';
	overrides: ConfigInput;
}

export interface ReadyMessage {
	type: 'ready';
	url: string;
	httpUrl: string;
	pid: number;
	workerPids: number[];
	listener: string;
	listenerReason: string;
}

export interface Inspection {
	rooms: number;
	sessions: number;
	peers: number;
	media: { transports: number; producers: number; consumers: number };
	workers: {
		pid: number;
		routers: number;
		webRtcServers: number;
		channelRequestHandlers: number;
		channelNotificationHandlers: number;
		webRtcServerTransports: number;
		webRtcServerIceFragments: number;
	}[];
	memory: NodeJS.MemoryUsage;
	activeHandles: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as BenchServerOptions;
const config = loadConfig({ argv: [], env: {}, envFile: '/dev/null', overrides: { ...options.overrides, listener: options.listener } });

let rooms: Rooms;
let workers: WorkerPool;
let stop: () => Promise<void>;
let ready: ReadyMessage;

if (options.stack === 'protoo') {
	const stack = await startProtooStack(config);

	rooms = stack.rooms;
	workers = stack.workers;
	stop = () => stack.close();
	ready = {
		type: 'ready',
		url: `ws://127.0.0.1:${stack.port}/`,
		httpUrl: `http://127.0.0.1:${stack.port}`,
		pid: process.pid,
		workerPids: workers.workers.map((w) => w.worker.pid),
		listener: 'protoo-server',
		listenerReason: 'protoo-server WebSocketServer (WebSocket-Node) on node:http'
	};
} else {
	const server = await Server.start(config);

	rooms = server.rooms;
	workers = server.workers;
	stop = () => server.shutdown('benchmark over');
	ready = {
		type: 'ready',
		url: `ws://127.0.0.1:${server.address.port}/`,
		httpUrl: `http://127.0.0.1:${server.address.port}`,
		pid: process.pid,
		workerPids: workers.workers.map((w) => w.worker.pid),
		listener: server.listenerKind,
		listenerReason: server.health().listener.reason
	};
}

async function inspect(): Promise<Inspection> {
	const health = healthOf(rooms, workers, { kind: '', reason: '' });
	const dumps = await Promise.all(
		workers.workers.map(async ({ worker, webRtcServer }) => {
			const dump = await worker.dump();
			const serverDump = webRtcServer ? await webRtcServer.dump() : undefined;

			return {
				pid: worker.pid,
				routers: dump.routerIds.length,
				webRtcServers: dump.webRtcServerIds.length,
				channelRequestHandlers: dump.channelMessageHandlers.channelRequestHandlers.length,
				channelNotificationHandlers: dump.channelMessageHandlers.channelNotificationHandlers.length,
				webRtcServerTransports: serverDump?.webRtcTransportIds.length ?? 0,
				webRtcServerIceFragments: serverDump?.localIceUsernameFragments.length ?? 0
			};
		})
	);
	const getActiveHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;

	return {
		rooms: health.rooms,
		sessions: rooms.sessionCount,
		peers: health.peers,
		media: health.media,
		workers: dumps,
		memory: process.memoryUsage(),
		activeHandles: getActiveHandles ? getActiveHandles.call(process).length : -1
	};
}

let stopping = false;

async function shutdown(): Promise<void> {
	if (stopping) return;
	stopping = true;
	const force = setTimeout(() => process.exit(1), 10_000);

	force.unref();
	await stop().catch(() => undefined);
	process.exit(0);
}

process.on('message', (message: { id: number; cmd: string }) => {
	const reply = (result: unknown, error?: string) => process.send?.({ type: 'reply', id: message.id, result, error });

	switch (message.cmd) {
		case 'inspect':
			inspect().then(reply, (error: unknown) => reply(undefined, String(error)));
			break;
		case 'gc': {
			const gc = (globalThis as { gc?: () => void }).gc;

			gc?.();
			reply({ gc: Boolean(gc) });
			break;
		}
		case 'stop':
			reply({ stopping: true });
			void shutdown();
			break;
		default:
			reply(undefined, `unknown command ${message.cmd}`);
	}
});
process.on('disconnect', () => void shutdown());
process.send?.(ready);
