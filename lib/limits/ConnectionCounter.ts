// Open connections per client address, for MAX_CONNECTIONS_PER_IP.

export class ConnectionCounter {
	readonly #counts = new Map<string, number>();
	#total = 0;

	/** Open connections in all. */
	get total(): number {
		return this.#total;
	}

	/** Addresses holding at least one. */
	get addresses(): number {
		return this.#counts.size;
	}

	count(address: string): number {
		return this.#counts.get(address) ?? 0;
	}

	add(address: string): void {
		this.#counts.set(address, this.count(address) + 1);
		this.#total++;
	}

	remove(address: string): void {
		const left = this.count(address) - 1;

		this.#total--;

		if (left > 0) this.#counts.set(address, left);
		else this.#counts.delete(address);
	}
}
