// Bounds of the protocol that clients need too; a module of its own so the
// browser bundle does not pull in the schemas (zod) to read them.

/** Producers one consumeMany may name (a full room's worth and then some). */
export const MAX_CONSUME_MANY = 64;
