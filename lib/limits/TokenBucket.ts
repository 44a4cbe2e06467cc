// Token buckets: a rate with a burst allowance, per connection (requests) or
// per client address (room creations, connections refused...).

/** Holds up to `burst` tokens, refilled at `rate` per second; each event takes one. */
export class TokenBucket {
	readonly #rate: number;
	readonly #burst: number;
	#tokens: number;
	#updated: number;

	constructor(rate: number, burst: number, now = performance.now()) {
		this.#rate = rate;
		this.#burst = burst;
		this.#tokens = burst;
		this.#updated = now;
	}

	/** Takes a token if one is left. */
	take(now = performance.now()): boolean {
		this.#refill(now);
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;

		return true;
	}

	/** Back to a full bucket: nothing to remember about this key. */
	full(now = performance.now()): boolean {
		this.#refill(now);

		return this.#tokens >= this.#burst;
	}

	#refill(now: number): void {
		this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updated) / 1000) * this.#rate);
		this.#updated = now;
	}
}

/** One bucket per key (a client address); full buckets are forgotten so the map stays small. */
export class KeyedBuckets {
	readonly #rate: number;
	readonly #burst: number;
	readonly #buckets = new Map<string, TokenBucket>();

	/** `count` events per `seconds`, all of them usable at once. */
	constructor(count: number, seconds: number) {
		this.#rate = count / seconds;
		this.#burst = count;
	}

	take(key: string, now = performance.now()): boolean {
		let bucket = this.#buckets.get(key);

		if (!bucket) {
			this.#sweep(now);
			bucket = new TokenBucket(this.#rate, this.#burst, now);
			this.#buckets.set(key, bucket);
		}

		return bucket.take(now);
	}

	#sweep(now: number): void {
		if (this.#buckets.size < 1000) return;
		for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
	}
}
