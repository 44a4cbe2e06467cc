// Small statistics: percentiles, summaries, least-squares lines.

/** Nearest-rank percentile of sorted, non-empty values (p in 0..100). */
function nearestRank(sorted: readonly number[], p: number): number {
	const rank = Math.ceil((p / 100) * sorted.length);

	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
	count: number;
	mean: number;
	p50: number;
	p95: number;
	p99: number;
	max: number;
}

export function summarize(values: readonly number[]): Summary {
	if (values.length === 0) return { count: 0, mean: Number.NaN, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN };

	const sorted = [...values].sort((a, b) => a - b);
	const at = (p: number) => nearestRank(sorted, p);

	return {
		count: sorted.length,
		mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
		p50: at(50),
		p95: at(95),
		p99: at(99),
		max: sorted[sorted.length - 1]!
	};
}

/**
 * Latency histogram with fixed relative precision (buckets of 1 % width from
 * 1 µs), for millions of samples without keeping them all.
 */
export class Histogram {
	readonly #buckets = new Map<number, number>();
	#count = 0;
	#sum = 0;
	#max = 0;

	static readonly #LOG_BASE = Math.log(1.01);

	record(ms: number): void {
		const value = Math.max(ms, 0.001);
		const bucket = Math.floor(Math.log(value / 0.001) / Histogram.#LOG_BASE);

		this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1);
		this.#count++;
		this.#sum += ms;
		if (ms > this.#max) this.#max = ms;
	}

	get count(): number {
		return this.#count;
	}

	percentile(p: number): number {
		if (this.#count === 0) return Number.NaN;

		const rank = Math.ceil((p / 100) * this.#count);
		let seen = 0;

		for (const bucket of [...this.#buckets.keys()].sort((a, b) => a - b)) {
			seen += this.#buckets.get(bucket)!;
			// Upper edge of the bucket: never under-reports.
			if (seen >= rank) return Math.min(0.001 * Math.exp((bucket + 1) * Histogram.#LOG_BASE), this.#max);
		}

		return this.#max;
	}

	summary(): Summary {
		return {
			count: this.#count,
			mean: this.#count ? this.#sum / this.#count : Number.NaN,
			p50: this.percentile(50),
			p95: this.percentile(95),
			p99: this.percentile(99),
			max: this.#count ? this.#max : Number.NaN
		};
	}
}

/** Least-squares line y = intercept + slope * x. */
export function linearRegression(points: readonly (readonly [number, number])[]): { slope: number; intercept: number; r2: number } {
	const n = points.length;

	if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN };

	let sx = 0;
	let sy = 0;

	for (const [x, y] of points) {
		sx += x;
		sy += y;
	}

	const mx = sx / n;
	const my = sy / n;
	let sxx = 0;
	let sxy = 0;
	let syy = 0;

	for (const [x, y] of points) {
		sxx += (x - mx) ** 2;
		sxy += (x - mx) * (y - my);
		syy += (y - my) ** 2;
	}

	const slope = sxx === 0 ? Number.NaN : sxy / sxx;

	return { slope, intercept: my - slope * mx, r2: syy === 0 || sxx === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

export function mb(bytes: number): number {
	return bytes / 1024 / 1024;
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs tasks with at most `limit` at a time; results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;

	async function lane(): Promise<void> {
		while (next < items.length) {
			const index = next++;

			results[index] = await task(items[index]!, index);
		}
	}

	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));

	return results;
}

/** Rejects when the promise does not settle in time. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout;

	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise<T>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
		})
	]);
}
