// The flooding sockets of bench-abuse.ts, in a process of their own so that
// the bystander's measured round trip is the server's, not this generator's
// event loop: `node flood-child.js URL COUNT`. Each socket fires heartbeats
// whenever it has drained and reconnects whenever it is closed or refused.
// On 'stop' (IPC) it reports {sent, answered, reconnects} and exits; on
// 'report' it reports without stopping. The flooders stand for other
// machines: they run at the lowest CPU priority, so that on a 2-core box they
// take CPU only when the server under test does not need it.

import os from 'node:os';
import { RawProtooClient } from './rawws.js';
import { sleep } from './stats.js';

const HEARTBEAT = '{}';

/** One flooding socket. */
class Flooder {
	sent = 0;
	answered = 0;
	reconnects = 0;
	#running = true;
	#client: RawProtooClient | undefined;

	constructor(readonly url: string, readonly localAddress: string) {}

	async run(): Promise<void> {
		while (this.#running) {
			try {
				this.#client = await RawProtooClient.connect(this.url, 10_000, this.localAddress);
			} catch {
				// Refused (e.g. 429 at the upgrade): try again, as an attacker would.
				this.reconnects++;
				await sleep(5);
				continue;
			}

			const client = this.#client;

			client.onResponse = () => this.answered++;
			while (this.#running && !client.closed) {
				client.batch(() => {
					for (let i = 0; i < 200; i++) client.fire('heartbeat', HEARTBEAT);
				});
				this.sent += 200;
				// Yield so responses are read and the loop does not starve this process.
				await new Promise((resolve) => setImmediate(resolve));
			}
			if (this.#running) this.reconnects++;
		}
	}

	stop(): void {
		this.#running = false;
		this.#client?.destroy();
	}
}

os.setPriority(19);

const [url, count] = [process.argv[2]!, Number(process.argv[3])];
const floods = Array.from({ length: count }, (_, i) => new Flooder(url, `127.0.${Math.floor(i / 250) + 1}.${(i % 250) + 2}`));
const running = floods.map((f) => f.run());
const totals = () => ({ sent: floods.reduce((s, f) => s + f.sent, 0), answered: floods.reduce((s, f) => s + f.answered, 0), reconnects: floods.reduce((s, f) => s + f.reconnects, 0) });

process.on('message', (message: string) => {
	if (message === 'report') process.send?.(totals());
	if (message !== 'stop') return;
	for (const f of floods) f.stop();
	void Promise.all(running).then(() => {
		process.send?.(totals());
		process.exit(0);
	});
});
process.on('disconnect', () => process.exit(0));
