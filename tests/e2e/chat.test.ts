// E2E: chat over real data channels (SCTP over DTLS between Chromium and the
// worker). Two peers join; each opens its chat channel and consumes the
// other's; a message sent in one tab arrives in the other with its sender's
// name.

import { browserSuite } from '../helpers/browser/suite.js';
import { Call } from '../helpers/browser/call.js';
import type { BrowserPeer } from '../helpers/browser/peer.js';
import { waitFor } from '../helpers/wait.js';


/** Sends a chat message; the channel opens once SCTP is up over the send transport, so retry until it takes it. */
function say(peer: BrowserPeer, text: string): Promise<true> {
	return waitFor(
		() =>
			peer.page.evaluate((message) => {
				try {
					window.vcall.sendChat(message);
					return true;
				} catch {
					return false;
				}
			}, text),
		{ what: `the chat channel to take "${text}"`, timeout: 30_000 }
	);
}

const serial = browserSuite();

serial('a chat message sent in one tab arrives in the other with its sender\'s name', async (t) => {
	t.timeout(90_000);

	const call = await Call.start(t.context.site);

	t.teardown(() => call.close());

	const [alice, bob] = await call.addPeers(['alice', 'bob'], { width: 320, height: 240, fps: 15, fakeFps: 15 });

	if (!alice || !bob) throw new Error('peers did not start');

	await say(alice, 'hello from alice');

	const received = await waitFor(async () => (await bob.state()).chat.find((m) => m.text === 'hello from alice'), {
		what: 'bob to receive the message',
		timeout: 30_000
	});

	t.like(received, { name: 'alice', own: false, peerId: (await alice.state()).peerId });
	t.like((await alice.state()).chat.at(-1), { name: 'alice', own: true, text: 'hello from alice' });

	await say(bob, 'hi alice');
	t.like(await waitFor(async () => (await alice.state()).chat.find((m) => m.text === 'hi alice'), { what: 'alice to receive the answer', timeout: 30_000 }), { name: 'bob' });
});
