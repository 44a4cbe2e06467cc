// Who hosts a room id. A node alone hosts every id it opens; in a cluster
// (lib/cluster) the id is claimed in the shared room directory first, so no
// two nodes open the same named room.

/** The room directory as the rooms see it. */
export interface RoomClaims {
	/** Claims the id for this node; resolves with the hosting node's id when another node holds it. */
	claim(roomId: string): Promise<string | undefined>;
	/** The room closed: the id is free again. */
	release(roomId: string): void;
}

export const LOCAL_CLAIMS: RoomClaims = {
	claim: () => Promise.resolve(undefined),
	release: () => undefined
};

/** A room this node was asked to open is already hosted by another node (the cluster relays the request there). */
export class RoomElsewhereError extends Error {
	readonly roomId: string;
	readonly nodeId: string;

	constructor(roomId: string, nodeId: string) {
		super(`room ${roomId} is hosted by node ${nodeId}`);
		this.name = 'RoomElsewhereError';
		this.roomId = roomId;
		this.nodeId = nodeId;
	}
}
