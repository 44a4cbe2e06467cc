// The comparison server: protoo-server's WebSocketServer (WebSocket-Node on
// node:http, as mediasoup-demo runs it) delivers requests to the SAME room
// code as vcall (WorkerPool + Rooms, validateRequest). Only the transport
// and the protoo framing differ, so the benchmarks compare those.

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import protooServer from 'protoo-server';
import { JoinTokens } from '../../lib/auth/JoinTokens.js';
import type { Config } from '../../lib/config/options.js';
import { createHttpHandler, type PublicHealthState } from '../../lib/http/endpoints.js';
import type { HttpRequest } from '../../lib/listener/types.js';
import { WorkerPool } from '../../lib/media/WorkerPool.js';
import { ErrorCode, RequestError } from '../../lib/protocol/errors.js';
import { validateRequest } from '../../lib/protocol/methods.js';
import type { PeerChannel } from '../../lib/protocol/ProtooConnection.js';
import { Rooms } from '../../lib/rooms/Rooms.js';

/** /health of the comparison stack: the same public figures as vcall's. */
function healthOf(rooms: Rooms, workers: WorkerPool, listener: { kind: string; reason: string }): PublicHealthState {
	return {
		status: workers.workers.length === 0 ? 'degraded' : 'healthy',
		auth: 'none',
		uptime: Math.round(process.uptime()),
		rooms: rooms.roomCount,
		peers: rooms.peerCount,
		workers: workers.workers.length,
		listener
	};
}

export interface ProtooStack {
	port: number;
	/** The wss:// port, when the config has a certificate (mediasoup-demo serves only wss). */
	httpsPort: number | undefined;
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
	const handleHttp = createHttpHandler({ config, health: () => healthOf(rooms, workers, listener) });
	const onHttp: http.RequestListener = (req, res) => {
		req.resume();

		const request: HttpRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headers: {}, remoteAddress: req.socket.remoteAddress ?? '' };

		void handleHttp(request).then((response) => {
			res.writeHead(response.status, response.headers);
			res.end(response.body);
		});
	};
	const servers: http.Server[] = [http.createServer(onHttp)];

	if (config.sslCertPath && config.sslKeyPath) {
		const [cert, key] = await Promise.all([readFile(config.sslCertPath), readFile(config.sslKeyPath)]);

		servers.push(https.createServer({ cert, key }, onHttp));
	}

	// One protoo Room holds every connection; vcall's Rooms do the real work.
	const protooRoom = new protooServer.Room();
	let nextPeerId = 0;
	// mediasoup-demo's options.
	const websocketServers = servers.map(
		(server) =>
			new protooServer.WebSocketServer(server, {
				maxReceivedFrameSize: 960000,
				maxReceivedMessageSize: 960000,
				fragmentOutgoingMessages: true,
				fragmentationThreshold: 960000
			})
	);

	for (const wss of websocketServers) wss.on('connectionrequest', (_info, accept) => {
		const peer = protooRoom.createPeer(String(++nextPeerId), accept());
		const notify = (method: string, data: unknown) => {
			if (!peer.closed) peer.notify(method, data).catch(() => undefined);
		};
		const channel: PeerChannel = {
			get closed() {
				return peer.closed;
			},
			notify,
			// protoo-server serializes each notification itself, as mediasoup-demo does.
			deliver: (outgoing) => notify(outgoing.method, outgoing.data),
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

	const listen = (server: http.Server, port: number) =>
		new Promise<number>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, config.host, () => resolve((server.address() as AddressInfo).port));
		});
	const port = await listen(servers[0]!, config.port);
	const httpsPort = servers[1] ? await listen(servers[1], config.httpsPort) : undefined;

	return {
		port,
		httpsPort,
		listener,
		workers,
		rooms,
		close: async () => {
			rooms.closeAll('shutdown');
			protooRoom.close();
			for (const wss of websocketServers) wss.stop();
			workers.close();
			await Promise.all(
				servers.map((server) => {
					server.closeAllConnections();

					return new Promise<void>((resolve) => server.close(() => resolve()));
				})
			);
		}
	};
}
