// Stands in for the `websocket` npm package (WebSocket-Node) that
// protoo-client requires: in the browser its `w3cwebsocket` is the native
// WebSocket. scripts/build-client.mjs aliases `websocket` to this file.
//
// It also keeps the socket protoo-client opened last, so the client can drop
// it on purpose (window.vcall.dropWebSocket), and can make reconnection
// attempts fail for a while, as a network outage would.

export const wsControl = {
	/** The most recently opened socket. */
	current: undefined as WebSocket | undefined,
	/** Until this Date.now(), new sockets go to a closed port and fail. */
	blockedUntil: 0
};

/** A loopback port nothing listens on: the connection is refused at once. */
const UNREACHABLE = 'ws://127.0.0.1:9/';

export class w3cwebsocket extends WebSocket {
	// protoo-client passes (url, 'protoo', origin, headers, requestOptions, clientConfig);
	// a browser takes only the first two.
	constructor(url: string | URL, protocols?: string | string[]) {
		super(Date.now() < wsControl.blockedUntil ? UNREACHABLE : url, protocols);
		wsControl.current = this;
	}
}

export default { w3cwebsocket };
