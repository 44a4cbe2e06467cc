// Which listeners load on this machine: suites run once per listener and say
// which ran and which were skipped.

import net from 'node:net';
import { uwsLoadError } from '../../lib/listener/index.js';
import type { ListenerKind } from '../../lib/listener/types.js';

export async function availableListeners(): Promise<{ kinds: ListenerKind[]; skipped: string[] }> {
	const uwsError = await uwsLoadError();

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
