// Addresses refused for a while: a client closed for flooding (REQUEST_BURST
// refusals in a row) that reconnects at once would make the server pay a
// WebSocket handshake and a session per reconnect; a 429 at the upgrade costs
// far less. Entries expire on their own; the map is bounded.

const MAX_ENTRIES = 100_000;

export class Cooldowns {
	readonly #until = new Map<string, number>();
	readonly #ms: number;

	constructor(ms: number) {
		this.#ms = ms;
	}

	/** Refuses `address` for the cool-down from now. */
	add(address: string, now = Date.now()): void {
		if (this.#until.size >= MAX_ENTRIES) this.#prune(now);
		// Still full of live entries: the oldest goes (Maps keep insertion order).
		if (this.#until.size >= MAX_ENTRIES) this.#until.delete(this.#until.keys().next().value!);
		this.#until.delete(address);
		this.#until.set(address, now + this.#ms);
	}

	/** Seconds `address` must still wait, or 0. */
	remaining(address: string, now = Date.now()): number {
		const until = this.#until.get(address);

		if (until === undefined) return 0;
		if (until <= now) {
			this.#until.delete(address);

			return 0;
		}

		return Math.ceil((until - now) / 1000);
	}

	#prune(now: number): void {
		for (const [address, until] of this.#until) if (until <= now) this.#until.delete(address);
	}
}
