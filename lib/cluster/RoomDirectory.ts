// The room directory: room id -> hosting node, claimed atomically (a Lua
// script: no two nodes host one id), removed when the room closes, and
// cleaned up when its node dies. A claim whose holder is dead is taken over.

import debugFactory from 'debug';
import type { Redis } from 'ioredis';
import type { RoomClaims } from '../rooms/claims.js';
import { keys } from './keys.js';

const debug = debugFactory('vcall:cluster:directory');

// KEYS: room, this node's rooms set. ARGV: node id, room id, node key prefix.
// Returns the live holder's id, or nil once claimed.
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. holder) == 1 then return holder end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return false`;

// KEYS: room, node's rooms set. ARGV: node id, room id. Deletes only the node's own claim.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1`;

// KEYS: node's rooms set. ARGV: node id, room key prefix, room ids to keep (may be none).
const FORGET = `
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
	if not keep[room] then
		if redis.call('GET', ARGV[2] .. room) == ARGV[1] then redis.call('DEL', ARGV[2] .. room) end
		redis.call('SREM', KEYS[1], room)
	end
end
return 1`;

const ROOM_PREFIX = keys.room('');

export class RoomDirectory implements RoomClaims {
	readonly #redis: Redis;
	readonly #nodeId: string;
	/** Whether Redis answers; without it every claim is this node's (degraded mode). */
	readonly #linked: () => boolean;

	constructor(redis: Redis, nodeId: string, linked: () => boolean) {
		this.#redis = redis;
		this.#nodeId = nodeId;
		this.#linked = linked;
	}

	async claim(roomId: string): Promise<string | undefined> {
		if (!this.#linked()) return undefined;
		try {
			const holder = (await this.#redis.eval(CLAIM, 2, keys.room(roomId), keys.nodeRooms(this.#nodeId), this.#nodeId, roomId, keys.nodePrefix)) as string | null;

			return holder ?? undefined;
		} catch (error) {
			// Redis went away meanwhile: the room opens here; the claim is renewed when it returns.
			debug('claim of %s failed: %s', roomId, (error as Error).message);

			return undefined;
		}
	}

	release(roomId: string): void {
		if (!this.#linked()) return;
		this.#redis.eval(RELEASE, 2, keys.room(roomId), keys.nodeRooms(this.#nodeId), this.#nodeId, roomId).catch((error: Error) => {
			debug('release of %s failed: %s', roomId, error.message);
		});
	}

	/** The live node hosting a room, or undefined (no such room, or Redis unreachable). */
	async host(roomId: string, alive: (nodeId: string) => boolean): Promise<string | undefined> {
		if (!this.#linked()) return undefined;

		const holder = await this.#redis.get(keys.room(roomId)).catch(() => null);

		return holder !== null && alive(holder) ? holder : undefined;
	}

	/** Removes a dead node's claims. */
	async forget(nodeId: string): Promise<void> {
		await this.#redis.eval(FORGET, 1, keys.nodeRooms(nodeId), nodeId, ROOM_PREFIX);
	}

	/** After Redis came back: claims what this node hosts again, drops what closed meanwhile. */
	async resync(roomIds: string[]): Promise<void> {
		await this.#redis.eval(FORGET, 1, keys.nodeRooms(this.#nodeId), this.#nodeId, ROOM_PREFIX, ...roomIds);
		for (const roomId of roomIds) {
			const holder = await this.claim(roomId);

			if (holder !== undefined) debug('room %s is claimed by %s as well (opened while Redis was away)', roomId, holder);
		}
	}
}
