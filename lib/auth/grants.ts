// What a peer may do in its room. With AUTH_MODE=none every peer may do
// everything; with jwt, its join token says.

/** Room ids chosen by an app backend: the same alphabet as the server's own ids. */
export const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const GRANT_NAMES = ['create', 'publish', 'subscribe', 'screen', 'data'] as const;

export type GrantName = (typeof GRANT_NAMES)[number];

/**
 * create: joinRoom may create the token's room, createRoom may create one;
 * publish: produce; subscribe: consume; screen: produce with metadata
 * {source: 'screen'}; data: data channels (checked by the data-channel code).
 */
export type Grants = Readonly<Record<GrantName, boolean>>;

export const ALL_GRANTS: Grants = { create: true, publish: true, subscribe: true, screen: true, data: true };

/** Who is joining and what the token allows; AUTH_MODE=none gives no identity and every grant. */
export interface JoinClaims {
	/** The token's `sub`, shown to the others as PeerInfo.identity. */
	identity: string | undefined;
	/** The room the token is for; undefined: only createRoom. */
	room: string | undefined;
	grants: Grants;
}

export const OPEN_CLAIMS: JoinClaims = { identity: undefined, room: undefined, grants: ALL_GRANTS };
