// Which listeners load on this machine: suites run once per listener and say
// which ran and which were skipped.

import { uwsLoadError } from '../../lib/listener/index.js';
import type { ListenerKind } from '../../lib/listener/types.js';

export async function availableListeners(): Promise<{ kinds: ListenerKind[]; skipped: string[] }> {
	const uwsError = await uwsLoadError();

	return uwsError === undefined
		? { kinds: ['uws', 'node'], skipped: [] }
		: { kinds: ['node'], skipped: [`uws skipped: ${uwsError}`] };
}

/** Polls a condition until it holds or the deadline passes. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
	const deadline = Date.now() + timeoutMs;

	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}
