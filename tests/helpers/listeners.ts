// Which listeners load on this machine: suites run once per listener and say
// which ran and which were skipped.

import net from 'node:net';
import { uwsLoadError } from '../../lib/listener/index.js';
import type { ListenerKind } from '../../lib/listener/types.js';

/**
 * The listeners to test: every one that loads, or only the one LISTENER names
 * (the Debian 13 CI run sets LISTENER=uws; there a uWS that fails to load is
 * an error, not a skip).
 */
export async function availableListeners(): Promise<{ kinds: ListenerKind[]; skipped: string[] }> {
	const uwsError = await uwsLoadError();
	const only = process.env.LISTENER;

	if (only === 'uws' && uwsError !== undefined) throw new Error(`LISTENER=uws but uWebSockets.js does not load: ${uwsError}`);
	if (only === 'uws' || only === 'node') return { kinds: [only], skipped: [`${only === 'uws' ? 'node' : 'uws'} skipped: LISTENER=${only}`] };

	return uwsError === undefined
		? { kinds: ['uws', 'node'], skipped: [] }
		: { kinds: ['node'], skipped: [`uws skipped: ${uwsError}`] };
}

/** A port free on 127.0.0.1 a moment ago (TCP; UDP users take the same number). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();

		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;

			server.close(() => resolve(port));
		});
	});
}
