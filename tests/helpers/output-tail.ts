// The last lines a child process printed (stdout and stderr), for failure
// messages; optionally echoed to this process's stderr as they come.

import type { ChildProcess } from 'node:child_process';

export class OutputTail {
	readonly lines: string[] = [];
	readonly #max: number;

	constructor(child: ChildProcess, { echo = false, max = 200 }: { echo?: boolean; max?: number } = {}) {
		this.#max = max;
		for (const stream of [child.stdout, child.stderr]) {
			let partial = '';

			stream?.setEncoding('utf8');
			stream?.on('data', (chunk: string) => {
				if (echo) process.stderr.write(chunk);

				const parts = (partial + chunk).split('\n');

				partial = parts.pop() ?? '';
				for (const line of parts) this.#push(line);
			});
		}
	}

	#push(line: string): void {
		this.lines.push(line);
		if (this.lines.length > this.#max) this.lines.shift();
	}

	/** The last n lines, each prefixed with `[label] ` when given. */
	tail(n = 30, label?: string): string {
		return this.lines
			.slice(-n)
			.map((line) => (label ? `[${label}] ${line}` : line))
			.join('\n');
	}
}
