// Starts the real server (real listener, real mediasoup workers) on an
// ephemeral port for a test, with short timeouts where a test needs them.

import { loadConfig } from '../../lib/config/load.js';
import type { ConfigInput } from '../../lib/config/options.js';
import type { ListenerKind } from '../../lib/listener/types.js';
import { Server } from '../../server/Server.js';

/** Port ranges far from the production default, one slice per test process. */
function rtcPorts(): { rtcMinPort: number; rtcMaxPort: number } {
	const slice = process.pid % 200;
	const rtcMinPort = 20000 + slice * 100;

	return { rtcMinPort, rtcMaxPort: rtcMinPort + 99 };
}

export function testConfig(overrides: ConfigInput = {}) {
	return loadConfig({
		argv: [],
		env: {},
		envFile: '/dev/null',
		overrides: {
			nodeEnv: 'test',
			host: '127.0.0.1',
			port: 0,
			opsPort: 0,
			listenIp: '127.0.0.1',
			numWorkers: 1,
			...rtcPorts(),
			...overrides
		}
	});
}

export interface StartedServer {
	server: Server;
	url: string;
	httpUrl: string;
	/** The ops listener (/metrics, /admin/*, /health with internals); '' with opsPort -1. */
	opsUrl: string;
}

export async function startServer(overrides: ConfigInput = {}): Promise<StartedServer> {
	const server = await Server.start(testConfig(overrides));
	const { port, opsPort } = server.address;

	return { server, url: `ws://127.0.0.1:${port}/`, httpUrl: `http://127.0.0.1:${port}`, opsUrl: opsPort === undefined ? '' : `http://127.0.0.1:${opsPort}` };
}

export type { ListenerKind };
