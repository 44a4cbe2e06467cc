// The comparison server: protoo-server's WebSocketServer (WebSocket-Node on
// node:http, as mediasoup-demo runs it) delivers requests to the SAME room
// code as vcall (WorkerPool + Rooms, validateRequest). Only the transport
// and the protoo framing differ, so the benchmarks compare those.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protooServer from 'protoo-server';
import { JoinTokens } from '../../lib/auth/JoinTokens.js';
import type { Config } from '../../lib/config/options.js';
import { createHttpHandler, type HealthState } from '../../lib/http/endpoints.js';
import type { HttpRequest } from '../../lib/listener/types.js';
import { WorkerPool } from '../../lib/media/WorkerPool.js';
import { ErrorCode, RequestError } from '../../lib/protocol/errors.js';
import { validateRequest } from '../../lib/protocol/methods.js';
import type { PeerChannel } from '../../lib/protocol/ProtooConnection.js';
import { Rooms } from '../../lib/rooms/Rooms.js';

/** /health of the comparison stack: the same figures as Server.health(). */
function healthOf(rooms: Rooms, workers: WorkerPool, listener: { kind: string; reason: string }): HealthState {
	return {
		status: workers.workers.length === 0 ? 'degraded' : 'healthy',
		auth: 'none',
		uptime: Math.round(process.uptime()),
		rooms: rooms.roomCount,
		peers: rooms.peerCount,
		workers: workers.workers.length,
		listener,
		media: rooms.mediaCounts()
	};
}

export interface ProtooStack {
	port: number;
	listener: { kind: string; reason: string };
	workers: WorkerPool;
	rooms: Rooms;
	close(): Promise<void>;
}

export async function startProtooStack(config: Config): Promise<ProtooStack> {
	const workers = new WorkerPool(config);

	await workers.start();

	const rooms = new Rooms(config, workers, await JoinTokens.create(config));
	const listener = { kind: 'protoo-server', reason: `protoo-server ${protooServer.version} (WebSocket-Node on node:http)` };
	const handleHttp = createHttpHandler({ config, health: () => healthOf(rooms, workers, listener), drain: () => undefined });
	const httpServer = http.createServer((req, res) => {
		req.resume();

		const request: HttpRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headers: {}, remoteAddress: req.socket.remoteAddress ?? '' };

		void handleHttp(request).then((response) => {
			res.writeHead(response.status, response.headers);
			res.end(response.body);
		});
	});
	// mediasoup-demo's options.
	const wss = new protooServer.WebSocketServer(httpServer, {
		maxReceivedFrameSize: 960000,
		maxReceivedMessageSize: 960000,
		fragmentOutgoingMessages: true,
		fragmentationThreshold: 960000
	});
	// One protoo Room holds every connection; vcall's Rooms do the real work.
	const protooRoom = new protooServer.Room();
	let nextPeerId = 0;

	wss.on('connectionrequest', (_info, accept) => {
		const peer = protooRoom.createPeer(String(++nextPeerId), accept());
		const channel: PeerChannel = {
			get closed() {
				return peer.closed;
			},
			notify: (method, data) => {
				if (!peer.closed) peer.notify(method, data).catch(() => undefined);
			},
			// protoo-server serializes each notification itself.
			deliver: (outgoing) => {
				if (!peer.closed) peer.notify(outgoing.method, outgoing.data).catch(() => undefined);
			},
			close: () => peer.close()
		};
		const session = rooms.open(channel, { address: _info.socket.remoteAddress ?? '', token: undefined });

		peer.on('request', (request, acceptRequest, rejectRequest) => {
			rooms.touch(session);

			let validated;

			try {
				validated = validateRequest(request.method, request.data);
			} catch (error) {
				const code = error instanceof RequestError ? error.code : ErrorCode.INTERNAL;

				rejectRequest(code, (error as Error).message);

				return;
			}

			rooms.handle(session, validated).then(
				(data) => acceptRequest(data ?? {}),
				(error: unknown) => {
					if (error instanceof RequestError) rejectRequest(error.code, error.message);
					else {
						console.error(`request ${request.method} failed:`, error);
						rejectRequest(ErrorCode.INTERNAL, 'internal error');
					}
				}
			);
		});
		peer.on('close', () => rooms.closed(session));
	});

	const port = await new Promise<number>((resolve, reject) => {
		httpServer.once('error', reject);
		httpServer.listen(config.port, config.host, () => resolve((httpServer.address() as AddressInfo).port));
	});

	return {
		port,
		listener,
		workers,
		rooms,
		close: async () => {
			rooms.closeAll('shutdown');
			protooRoom.close();
			wss.stop();
			workers.close();
			httpServer.closeAllConnections();
			await new Promise<void>((resolve) => httpServer.close(() => resolve()));
		}
	};
}
