// Random ids and tokens, and comparing secrets without leaking timing.

import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A random base64url string of `bytes` random bytes (16 bytes: 22 characters, unguessable). */
export function randomId(bytes: number): string {
	return randomBytes(bytes).toString('base64url');
}

export function secretsEqual(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);

	return x.length === y.length && timingSafeEqual(x, y);
}
