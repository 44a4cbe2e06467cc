// Redis key and channel names of a cluster, in one place.

const PREFIX = 'vcall:';

export const keys = {
	/** Set of the node ids ever registered (dead ones are removed by whoever notices). */
	nodes: `${PREFIX}nodes`,
	/** Hash of one node's registry entry, with a TTL. */
	node: (nodeId: string) => `${PREFIX}node:${nodeId}`,
	/** Room id -> hosting node id. */
	room: (roomId: string) => `${PREFIX}room:${roomId}`,
	/** Set of the room ids a node claimed (to clean up after its death). */
	nodeRooms: (nodeId: string) => `${PREFIX}node-rooms:${nodeId}`,
	/** Pub/sub channel a node listens on for relayed requests, answers and notifications. */
	channel: (nodeId: string) => `${PREFIX}relay:${nodeId}`,
	/** What the scripts prepend to a node id for its registry entry. */
	nodePrefix: `${PREFIX}node:`
};
