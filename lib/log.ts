// Operational log lines: one line per event. Under systemd (JOURNAL_STREAM is
// set) each line starts with a syslog priority prefix that journald turns into
// the entry's level; on a terminal or a file it starts with a timestamp and
// the level. Detail goes through `debug` namespaces (DEBUG=vcall:*).

type Level = 'error' | 'warn' | 'info';

const PRIORITY: Record<Level, number> = { error: 3, warn: 4, info: 6 };
const underJournald = Boolean(process.env.JOURNAL_STREAM);

function write(level: Level, message: string): void {
	const line = underJournald ? `<${PRIORITY[level]}>${message}` : `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;

	(level === 'info' ? process.stdout : process.stderr).write(`${line.replace(/\n/g, ' | ')}\n`);
}

export const log = {
	error: (message: string): void => write('error', message),
	warn: (message: string): void => write('warn', message),
	info: (message: string): void => write('info', message)
};

/** An unexpected error with its stack, for one log line. */
export function describeError(error: unknown): string {
	return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Error lines keyed by their source (a client address): at most `limit` per
 * window and source; the next line after a window says how many were dropped.
 */
export class RateLimitedLog {
	readonly #limit: number;
	readonly #windowMs: number;
	readonly #sources = new Map<string, { windowStart: number; written: number; dropped: number }>();

	constructor(limit: number, windowMs: number) {
		this.#limit = limit;
		this.#windowMs = windowMs;
	}

	error(source: string, message: string, now = Date.now()): void {
		let state = this.#sources.get(source);

		if (!state || now - state.windowStart >= this.#windowMs) {
			if (state?.dropped) write('error', `${state.dropped} more errors from ${source} were not logged`);
			// Forget stale sources so the map stays as small as the set of recent offenders.
			if (this.#sources.size > 10_000) this.#sources.clear();
			state = { windowStart: now, written: 0, dropped: 0 };
			this.#sources.set(source, state);
		}
		if (state.written >= this.#limit) {
			state.dropped++;

			return;
		}
		state.written++;
		write('error', message);
	}
}
