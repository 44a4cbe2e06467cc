// Open connections per client address, for MAX_CONNECTIONS_PER_IP.

export class ConnectionCounter {
	readonly #counts = new Map<string, number>();

	count(address: string): number {
		return this.#counts.get(address) ?? 0;
	}

	add(address: string): void {
		this.#counts.set(address, this.count(address) + 1);
	}

	remove(address: string): void {
		const left = this.count(address) - 1;

		if (left > 0) this.#counts.set(address, left);
		else this.#counts.delete(address);
	}
}
