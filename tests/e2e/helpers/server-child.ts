// Runs the vcall server (tests/helpers/server.ts startServer) in a process of
// its own, so that a test can measure the server's CPU apart from the test
// runner and Playwright. Started by startServerProcess(); reports
// {url, pid, workerPids} over IPC, answers 'lag' with its event-loop delay
// since the last 'lag', and stops on 'stop' or when the parent goes.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../../helpers/server.js';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startServer>[0];
const { server, url } = await startServer(overrides);
const lag = monitorEventLoopDelay({ resolution: 10 });

lag.enable();

const stop = async (): Promise<void> => {
	await server.shutdown('test over').catch(() => undefined);
	process.exit(0);
};

process.on('message', (message) => {
	if (message === 'stop') void stop();
	else if (message === 'lag') {
		process.send?.({ lag: { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6, meanMs: lag.mean / 1e6 } });
		lag.reset();
	}
});
process.on('disconnect', () => void stop());
process.send?.({ url, pid: process.pid, listener: server.listenerKind, workerPids: server.workers.workers.map((w) => w.worker.pid) });
