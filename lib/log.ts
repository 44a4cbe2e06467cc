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
