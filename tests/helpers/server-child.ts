// The server under test in a process of its own, started by
// server-process.ts (E2E, network and benchmark runs alike), so that its CPU
// is measured apart from the test runner and the browsers, or so that it runs
// inside a network namespace. Either vcall's Server or the protoo-server
// comparison stack, both on the same Rooms and WorkerPool code, configured by
// testConfig() and the overrides in argv[2] (JSON ServerChildOptions).
//
// Talks to its parent over IPC: a ReadyMessage once listening, then answers
// {id, cmd} commands (inspect, gc, lag, stop) with {type: 'reply', id, result}.
// Stops on 'stop', on SIGTERM/SIGINT, or when the parent goes.

import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ConfigInput } from '../../lib/config/options.js';
import type { ListenerKind } from '../../lib/listener/types.js';
import type { WorkerPool } from '../../lib/media/WorkerPool.js';
import type { Rooms } from '../../lib/rooms/Rooms.js';
import { Server } from '../../server/Server.js';
import { startProtooStack } from './protoo-stack.js';
import { testConfig } from './server.js';

export type StackKind = 'vcall' | 'protoo';

export interface ServerChildOptions {
	stack: StackKind;
	/** vcall only: which listener to force (default: whichever loads). */
	listener?: ListenerKind;
	overrides: ConfigInput;
}

export interface ReadyMessage {
	type: 'ready';
	url: string;
	/** wss:// when the config has a certificate. */
	secureUrl: string | undefined;
	httpUrl: string;
	/** The ops listener (the protoo stack has none: its one HTTP port). */
	opsUrl: string;
	pid: number;
	workerPids: number[];
	listener: string;
	listenerReason: string;
}

export interface EventLoopLag {
	p99Ms: number;
	maxMs: number;
	meanMs: number;
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

/** Writes handed to client sockets since the server started (TLS: each is one SSL_write, one TLS record up to 16 KiB). */
export interface SocketWrites {
	tls: number;
	tcp: number;
}

export type Command = 'inspect' | 'gc' | 'lag' | 'writes' | 'stop' | 'drain';

/**
 * Counts what the listener (ws, or protoo-server's WebSocket-Node) hands to
 * client sockets: every write and writev of a net.Socket goes through
 * _writeGeneric. mediasoup's channel pipes have no remote address.
 */
const socketWrites: SocketWrites = { tls: 0, tcp: 0 };
const socketProto = net.Socket.prototype as unknown as { _writeGeneric: (this: net.Socket, ...args: unknown[]) => unknown };
const writeGeneric = socketProto._writeGeneric;

socketProto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
	if ((this as { encrypted?: boolean }).encrypted) socketWrites.tls++;
	else if (this.remoteAddress !== undefined) socketWrites.tcp++;

	return writeGeneric.apply(this, args);
};

const options = JSON.parse(process.argv[2] ?? '{}') as ServerChildOptions;
const config = testConfig({ ...options.overrides, ...(options.listener ? { listener: options.listener } : {}) });

let rooms: Rooms;
let workers: WorkerPool;
let stop: () => Promise<void>;
/** vcall only: the drain of a deploy (the process exits when its calls end). */
let vcall: Server | undefined;
let port: number;
let opsPort: number | undefined;
let httpsPort: number | undefined;
let listener: { kind: string; reason: string };

if (options.stack === 'protoo') {
	const stack = await startProtooStack(config);

	({ rooms, workers, port, httpsPort, listener } = stack);
	stop = () => stack.close();
} else {
	const server = await Server.start(config);

	vcall = server;
	({ rooms, workers } = server);
	({ port, opsPort, httpsPort } = server.address);
	listener = server.health().listener;
	stop = () => server.shutdown('test over');
}

const lag = monitorEventLoopDelay({ resolution: 10 });

lag.enable();

async function inspect(): Promise<Inspection> {
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
		rooms: rooms.roomCount,
		sessions: rooms.sessionCount,
		peers: rooms.peerCount,
		media: rooms.mediaCounts(),
		workers: dumps,
		memory: process.memoryUsage(),
		activeHandles: getActiveHandles ? getActiveHandles.call(process).length : -1
	};
}

/** The event-loop delay since the previous call. */
function takeLag(): EventLoopLag {
	const result = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6, meanMs: lag.mean / 1e6 };

	lag.reset();

	return result;
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

process.on('message', (message: { id: number; cmd: Command }) => {
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
		case 'lag':
			reply(takeLag());
			break;
		case 'writes':
			reply({ ...socketWrites });
			break;
		case 'drain':
			if (vcall) void vcall.drain().then(() => process.exit(0));
			reply({ draining: Boolean(vcall) });
			break;
		case 'stop':
			reply({ stopping: true });
			void shutdown();
			break;
		default:
			reply(undefined, `unknown command ${String(message.cmd)}`);
	}
});
process.on('disconnect', () => void shutdown());
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown());

const ready: ReadyMessage = {
	type: 'ready',
	url: `ws://${config.host}:${port}/`,
	secureUrl: httpsPort === undefined ? undefined : `wss://${config.host}:${httpsPort}/`,
	httpUrl: `http://${config.host}:${port}`,
	opsUrl: `http://${config.host}:${opsPort ?? port}`,
	pid: process.pid,
	workerPids: workers.workers.map((w) => w.worker.pid),
	listener: listener.kind,
	listenerReason: listener.reason
};

process.send?.(ready);
