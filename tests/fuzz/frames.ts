// Frames for the protocol fuzzer: requests generated from the zod schemas of
// lib/protocol/methods.ts (through their JSON Schema), with ids drawn from a
// pool of real ones (other rooms' included), then mutated: wrong types, huge
// numbers, deep nesting, long strings, unicode, prototype keys; plus frames
// that are not requests at all. Each frame says what the server owes it.

import fc from 'fast-check';
import { z } from 'zod';
import { requestSchemas, type RequestMethod } from '../../lib/protocol/methods.js';

/** A place for a real id, filled in when the frame is sent (the pool grows as the fuzzers create objects). */
export class PoolRef {
	constructor(readonly index: number) {}
}

export interface Frame {
	/** The JSON text's value; PoolRefs are replaced when sent. */
	value: unknown;
	/** A request (its id filled in when sent) owes a response; anything else an 'error' notification. */
	expects: 'response' | 'error';
	/** For reports. */
	kind: string;
}

type JsonSchema = {
	type?: string;
	anyOf?: JsonSchema[];
	enum?: unknown[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	additionalProperties?: JsonSchema | boolean;
	propertyNames?: JsonSchema;
	items?: JsonSchema;
	minItems?: number;
	maxItems?: number;
	minLength?: number;
	maxLength?: number;
	pattern?: string;
	minimum?: number;
	maximum?: number;
};

/** Fields that name server objects or secrets: usually a real value from the pool. */
const ID_FIELDS = new Set(['roomId', 'peerId', 'transportId', 'producerId', 'consumerId', 'dataProducerId', 'token', 'reconnectToken']);

/** Arrays and strings are kept short where the schema allows long ones: the mutations make the long ones (below MAX_MESSAGE_BYTES, which would end the socket). */
const SHORT = 4;

function fromSchema(schema: JsonSchema): fc.Arbitrary<unknown> {
	if (schema.anyOf) return fc.oneof(...schema.anyOf.map(fromSchema));
	if (schema.enum) return fc.constantFrom(...schema.enum);

	switch (schema.type) {
		case 'object': {
			if (schema.properties) {
				const model: Record<string, fc.Arbitrary<unknown>> = {};

				for (const [key, property] of Object.entries(schema.properties))
					model[key] = ID_FIELDS.has(key) ? fc.oneof({ weight: 4, arbitrary: fc.nat().map((n) => new PoolRef(n)) }, { weight: 1, arbitrary: fromSchema(property) }) : fromSchema(property);

				return fc.record(model, { requiredKeys: schema.required ?? [] });
			}

			const values = typeof schema.additionalProperties === 'object' ? fromSchema(schema.additionalProperties) : fc.jsonValue({ maxDepth: 2 });

			return fc.dictionary(schema.propertyNames ? fromSchema(schema.propertyNames).map(String) : fc.string({ maxLength: 16 }), values, { maxKeys: SHORT });
		}
		case 'array':
			return fc.array(schema.items ? fromSchema(schema.items) : fc.jsonValue({ maxDepth: 1 }), { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? SHORT, SHORT)) });
		case 'string':
			if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));

			return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.max(schema.minLength ?? 0, Math.min(schema.maxLength ?? 32, 32)) });
		case 'integer':
			return fc.integer({ min: schema.minimum ?? Number.MIN_SAFE_INTEGER, max: schema.maximum ?? Number.MAX_SAFE_INTEGER });
		case 'number':
			return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
		case 'boolean':
			return fc.boolean();
		default:
			return fc.jsonValue({ maxDepth: 2 });
	}
}

const METHODS = Object.keys(requestSchemas) as RequestMethod[];

/** Valid-shaped parameters of each method, from its schema as the client sends it. */
const paramsOf = Object.fromEntries(
	METHODS.map((method) => [method, fromSchema(z.toJSONSchema(requestSchemas[method], { io: 'input', unrepresentable: 'any' }) as JsonSchema)])
) as Record<RequestMethod, fc.Arbitrary<unknown>>;

const HUGE = [1e308, -1e308, 2 ** 53, 2 ** 64, -1, -0, 0.5, 4294967296, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

function nest(depth: number, leaf: unknown): unknown {
	let value = leaf;

	for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];

	return value;
}

/** Sets `key` of an object (or a fresh one, for non-objects) to `value`. */
function withKey(data: unknown, key: string, value: unknown): Record<string, unknown> {
	const base = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};

	return { ...base, [key]: value };
}

const keyOf = (data: unknown) => fc.oneof(fc.constantFrom(...(typeof data === 'object' && data !== null ? Object.keys(data) : []), 'roomId', 'rtpParameters', 'metadata'), fc.string({ maxLength: 8 }));

/** The mutations of one request's parameters, by name. */
function mutations(data: unknown): fc.Arbitrary<{ kind: string; data: unknown }> {
	const tagged = (kind: string, arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((d) => ({ kind, data: d }));

	return fc.oneof(
		{ weight: 6, arbitrary: tagged('valid', fc.constant(data)) },
		{ weight: 2, arbitrary: tagged('wrong type', fc.tuple(keyOf(data), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null))).map(([k, v]) => withKey(data, k, v))) },
		{ weight: 1, arbitrary: tagged('huge number', fc.tuple(keyOf(data), fc.constantFrom(...HUGE)).map(([k, v]) => withKey(data, k, v))) },
		{ weight: 1, arbitrary: tagged('deep nesting', fc.tuple(keyOf(data), fc.integer({ min: 20, max: 400 })).map(([k, depth]) => withKey(data, k, nest(depth, 1)))) },
		{ weight: 1, arbitrary: tagged('long string', fc.tuple(keyOf(data), fc.integer({ min: 65, max: 15_000 }), fc.constantFrom('x', 'é', '𝄞', '\u0000')).map(([k, n, c]) => withKey(data, k, c.repeat(n)))) },
		{ weight: 1, arbitrary: tagged('unicode', fc.tuple(keyOf(data), fc.string({ unit: 'binary', maxLength: 64 })).map(([k, v]) => withKey(data, k, v))) },
		{ weight: 1, arbitrary: tagged('long array', fc.tuple(keyOf(data), fc.integer({ min: 33, max: 2000 })).map(([k, n]) => withKey(data, k, Array.from({ length: n }, (_, i) => ({ i }))))) },
		{ weight: 1, arbitrary: tagged('prototype keys', fc.constant(JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"roomId":"x"}`))) },
		{ weight: 1, arbitrary: tagged('not an object', fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constant([]))) }
	);
}

const request = (method: string, data: unknown) => ({ request: true, id: 0, method, data });

/** A request for a known method, mutated. */
const knownMethodFrame: fc.Arbitrary<Frame> = fc
	.constantFrom(...METHODS)
	.chain((method) => paramsOf[method].chain((data) => mutations(data).map(({ kind, data: d }) => ({ value: request(method, d), expects: 'response' as const, kind: `${method} ${kind}` }))));

/** Frames that are no request the server can answer, and requests for methods it does not have. */
const oddFrame: fc.Arbitrary<Frame> = fc.oneof(
	fc.stringMatching(/^[A-Za-z]{1,64}$/).map((method): Frame => ({ value: request(method, {}), expects: 'response', kind: 'unknown method' })),
	fc.string({ unit: 'binary', minLength: 1, maxLength: 32 }).map((method): Frame => ({ value: request(method, { roomId: 'x' }), expects: 'response', kind: 'unicode method' })),
	fc.oneof(fc.constant(''), fc.string({ minLength: 65, maxLength: 200 }), fc.integer(), fc.constant(null)).map((method): Frame => ({ value: { request: true, id: 0, method, data: {} }, expects: 'error', kind: 'bad method' })),
	fc.oneof(fc.constant(-1), fc.constant(1.5), fc.constant('1'), fc.constant(2 ** 60)).map((id): Frame => ({ value: { request: true, id, method: 'heartbeat', data: {} }, expects: 'error', kind: 'bad request id' })),
	fc.string({ maxLength: 16 }).map((method): Frame => ({ value: { notification: true, method: method || 'x', data: {} }, expects: 'error', kind: 'notification' })),
	fc.constant<Frame>({ value: { response: true, id: 1, ok: true, data: {} }, expects: 'error', kind: 'response' }),
	fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !('request' in v || 'notification' in v || 'response' in v))).map((value): Frame => ({ value, expects: 'error', kind: 'not protoo' }))
);

export const frameArbitrary: fc.Arbitrary<Frame> = fc.oneof({ weight: 9, arbitrary: knownMethodFrame }, { weight: 1, arbitrary: oddFrame });

/** The JSON text of a frame: its request id set, PoolRefs replaced by ids from the pool. */
export function frameText(frame: Frame, id: number, pool: readonly string[]): string {
	const value = frame.expects === 'response' ? { ...(frame.value as object), id } : frame.value;

	return JSON.stringify(value, (_key, v: unknown) => (v instanceof PoolRef ? (pool[v.index % pool.length] ?? 'none') : v));
}
