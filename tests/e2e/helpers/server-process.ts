// Starts tests/e2e/helpers/server-child.js in a child Node process.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../../lib/config/options.js';

export interface EventLoopLag {
	p99Ms: number;
	maxMs: number;
	meanMs: number;
}

export interface ServerProcess {
	url: string;
	pid: number;
	listener: string;
	workerPids: number[];
	/** The server's event-loop delay since the previous call. */
	lag(): Promise<EventLoopLag>;
	stop(): Promise<void>;
}

export async function startServerProcess(overrides: ConfigInput): Promise<ServerProcess> {
	const child: ChildProcess = fork(fileURLToPath(new URL('./server-child.js', import.meta.url)), [JSON.stringify(overrides)], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	const info = await new Promise<Omit<ServerProcess, 'stop' | 'lag'>>((resolve, reject) => {
		child.once('message', (message) => resolve(message as Omit<ServerProcess, 'stop' | 'lag'>));
		child.once('exit', (code) => reject(new Error(`server process exited with ${code} before it was ready`)));
		child.once('error', reject);
	});

	return {
		...info,
		lag: () =>
			new Promise<EventLoopLag>((resolve) => {
				const onMessage = (message: unknown): void => {
					const lag = (message as { lag?: EventLoopLag }).lag;

					if (!lag) return;
					child.off('message', onMessage);
					resolve(lag);
				};

				child.on('message', onMessage);
				child.send('lag');
			}),
		stop: () =>
			new Promise<void>((resolve) => {
				// Already gone (an exit code, or killed by a signal): no 'exit' event will come.
				if (child.exitCode !== null || child.signalCode !== null) return resolve();
				const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);

				child.once('exit', () => {
					clearTimeout(timer);
					resolve();
				});
				// The IPC channel may close just before 'exit': the timer ends it then.
				child.send('stop', () => undefined);
			})
	};
}
