// At most one value per key per interval: the first goes out at once, later
// ones within the interval collapse into the latest, sent when it ends. A
// flapping link then costs the socket one notification per consumer per
// interval, and the client still ends up with the current value.

export class Throttle<T> {
	readonly #intervalMs: number;
	readonly #send: (key: string, value: T) => void;
	readonly #keys = new Map<string, { sentAt: number; pending?: T; timer?: NodeJS.Timeout }>();
	#closed = false;

	constructor(intervalMs: number, send: (key: string, value: T) => void) {
		this.#intervalMs = intervalMs;
		this.#send = send;
	}

	get closed(): boolean {
		return this.#closed;
	}

	push(key: string, value: T): void {
		if (this.#closed) return;

		const now = Date.now();
		const state = this.#keys.get(key);

		if (!state || (state.timer === undefined && now - state.sentAt >= this.#intervalMs)) {
			this.#keys.set(key, { sentAt: now });
			this.#send(key, value);

			return;
		}
		state.pending = value;
		state.timer ??= setTimeout(() => this.#flush(key), state.sentAt + this.#intervalMs - now);
	}

	/** Forgets a key (its consumer closed): a pending value is dropped. */
	delete(key: string): void {
		clearTimeout(this.#keys.get(key)?.timer);
		this.#keys.delete(key);
	}

	close(): void {
		this.#closed = true;
		for (const state of this.#keys.values()) clearTimeout(state.timer);
		this.#keys.clear();
	}

	#flush(key: string): void {
		const state = this.#keys.get(key);

		if (!state || state.pending === undefined) return;

		const value = state.pending;

		this.#keys.set(key, { sentAt: Date.now() });
		this.#send(key, value);
	}
}
