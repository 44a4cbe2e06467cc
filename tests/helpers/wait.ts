// Waiting for a condition, with a deadline and a message that says what was
// awaited: the one polling helper of the tests (no sleeps standing in for
// conditions).

/** Thrown by a waitFor probe: stop waiting, the condition can no longer come true. */
export class Fatal extends Error {}

export interface WaitOptions {
	/** ms; 20 s unless told. */
	timeout?: number;
	/** ms between probes. */
	interval?: number;
	/** What is awaited, for the timeout message ("... waiting for <what>"). */
	what?: string;
}

/**
 * Polls `probe` until it returns something other than undefined or false,
 * and resolves with that. A probe that throws is retried (its last error is
 * reported on timeout), unless it throws Fatal.
 */
export async function waitFor<T>(
	probe: () => Promise<T | undefined | false> | T | undefined | false,
	{ timeout = 20_000, interval = 200, what = 'condition' }: WaitOptions = {}
): Promise<T> {
	const deadline = Date.now() + timeout;
	let lastError: unknown;

	for (;;) {
		try {
			const value = await probe();

			if (value !== undefined && value !== false) return value;
		} catch (error) {
			if (error instanceof Fatal) throw error;
			lastError = error;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
		}
		await new Promise((resolve) => setTimeout(resolve, interval));
	}
}
