// The server under a benchmark: tests/helpers/server-process.ts with the
// benchmarks' settings on top of testConfig().

import type { ConfigInput } from '../../../lib/config/options.js';
import { ServerProcess, type StackKind } from '../../helpers/server-process.js';

/** A stack under test: which server and which listener. */
export interface StackSpec {
	/** e.g. 'vcall (node)', 'protoo-server' */
	label: string;
	stack: StackKind;
	listener: 'node' | 'uws';
}

/** What the benchmarks change in testConfig(): two workers, a long peer timeout (load clients send no heartbeats), short grace and idle times, room for the original flow's parallel consumes. */
export const BENCH_OVERRIDES = {
	numWorkers: 2,
	rtcMinPort: 47000,
	rtcMaxPort: 47999,
	maxPeersPerRoom: 7,
	peerTimeout: 3600,
	reconnectGrace: 2,
	roomIdleTimeout: 2,
	frontendUrl: '*',
	// Every load client comes from 127.0.0.1: the per-address quotas would refuse the background rooms.
	maxConnectionsPerIp: 100_000,
	roomCreatesPerMinute: 100_000,
	// The original consume flow sends a consume per producer at once (12 for a 7th peer); the short flow sends one consumeMany.
	maxRequestsInFlight: 32
} satisfies ConfigInput;

export function startBenchServer(spec: StackSpec, overrides: ConfigInput = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
	return ServerProcess.start({
		stack: spec.stack,
		listener: spec.listener,
		overrides: { ...BENCH_OVERRIDES, ...overrides },
		// VCALL_BENCH_SERVER_ARGS adds Node options to the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
		nodeArgs: ['--expose-gc', ...nodeArgs, ...(process.env.VCALL_BENCH_SERVER_ARGS?.split(/\s+/).filter(Boolean) ?? [])],
		env: { ...process.env, DEBUG: '' }
	});
}
