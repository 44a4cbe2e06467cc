// Join tokens: JWTs signed by the app backend (or `vcall token`) with
// AUTH_SECRET (HS256) or the private half of AUTH_PUBLIC_KEY (EdDSA, ES256,
// RS256). Claims: sub (identity), room, grants, exp, nbf. A token is never
// logged, and a refusal says why without echoing it.

import fs from 'node:fs';
import debugFactory from 'debug';
import { errors, importSPKI, jwtVerify, SignJWT, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';
import { z } from 'zod';
import type { Config } from '../config/options.js';
import { ErrorCode, RequestError } from '../protocol/errors.js';
import { GRANT_NAMES, OPEN_CLAIMS, ROOM_ID, type GrantName, type Grants, type JoinClaims } from './grants.js';

const debug = debugFactory('vcall:auth');

export const MIN_SECRET_BYTES = 32;

const PUBLIC_KEY_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;

const claimsSchema = z.object({
	sub: z.string().min(1).max(128),
	room: z.string().regex(ROOM_ID, 'room must be 1-64 characters of A-Z a-z 0-9 _ -').optional(),
	grants: z.partialRecord(z.enum(GRANT_NAMES), z.boolean()).default({})
});

function unauthorized(message: string): RequestError {
	return new RequestError(ErrorCode.UNAUTHORIZED, message);
}

/** The PEM text of AUTH_PUBLIC_KEY, given inline or as a file path. */
function readPem(value: string): string {
	return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : fs.readFileSync(value, 'utf8');
}

export class JoinTokens {
	readonly #key: Uint8Array | CryptoKey | KeyObject | undefined;
	readonly #algorithms: string[];

	/** Reads the configured key; AUTH_MODE=none gives a verifier that lets everyone in with every grant. */
	static async create(config: Config): Promise<JoinTokens> {
		if (config.authMode === 'none') return new JoinTokens(undefined, []);
		if (config.authSecret) return new JoinTokens(new TextEncoder().encode(config.authSecret), ['HS256']);

		const pem = readPem(config.authPublicKey!);

		for (const alg of PUBLIC_KEY_ALGORITHMS) {
			try {
				return new JoinTokens(await importSPKI(pem, alg), [alg]);
			} catch {
				// Not a key of this algorithm: try the next.
			}
		}

		throw new Error(`AUTH_PUBLIC_KEY is not a PEM public key for ${PUBLIC_KEY_ALGORITHMS.join(', ')}`);
	}

	private constructor(key: Uint8Array | CryptoKey | KeyObject | undefined, algorithms: string[]) {
		this.#key = key;
		this.#algorithms = algorithms;
	}

	get required(): boolean {
		return this.#key !== undefined;
	}

	/** The token's claims, or a 401 saying what is wrong with it. */
	async verify(token: string | undefined): Promise<JoinClaims> {
		if (!this.#key) return OPEN_CLAIMS;
		if (!token) throw unauthorized('a join token is required (token field or ?token= on the URL)');

		let payload: JWTPayload;

		try {
			({ payload } = await jwtVerify(token, this.#key, { algorithms: this.#algorithms }));
		} catch (error) {
			debug('token refused: %s', (error as Error).message);
			if (error instanceof errors.JWTExpired) throw unauthorized('the join token has expired');
			if (error instanceof errors.JWTClaimValidationFailed) throw unauthorized(`the join token is not valid: ${error.claim} claim`);
			throw unauthorized('the join token is not valid');
		}

		const claims = claimsSchema.safeParse(payload);

		if (!claims.success) throw unauthorized(`the join token's claims are malformed: ${claims.error.issues[0]?.path.join('.') ?? ''}`);

		const grants = Object.fromEntries(GRANT_NAMES.map((name) => [name, claims.data.grants[name] === true])) as Record<GrantName, boolean>;

		return { identity: claims.data.sub, room: claims.data.room, grants };
	}
}

export interface MintOptions {
	identity: string;
	room: string | undefined;
	ttlSeconds: number;
	grants: Partial<Grants>;
}

/** Signs an HS256 join token (the `vcall token` command; app backends do the same with jose). */
export function mintJoinToken(secret: string, options: MintOptions): Promise<string> {
	return new SignJWT({ ...(options.room ? { room: options.room } : {}), grants: options.grants })
		.setProtectedHeader({ alg: 'HS256' })
		.setSubject(options.identity)
		.setIssuedAt()
		.setNotBefore('0s')
		.setExpirationTime(`${options.ttlSeconds}s`)
		.sign(new TextEncoder().encode(secret));
}
