// Whether a pid (of a lock holder, of a namespace's owner) still runs, and
// stopping a child process: SIGTERM, then SIGKILL after a grace.

import type { ChildProcess } from 'node:child_process';

export function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);

		return true;
	} catch (error) {
		// EPERM: it runs, as another user.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;

	await new Promise<void>((resolve) => {
		const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);

		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
		child.kill('SIGTERM');
	});
}
