// E2E: the call page as people use it. Alice and Bob join through the
// pre-join screen (Bob only with the keyboard); Carol joins by URL. Through
// the page's own buttons: mute and camera off reach the others as the muted
// icon and the camera-off avatar while their getStats() shows that stream
// stopped; a chat message arrives with its sender's name; a screen share
// switches the others to the stage layout; Leave removes the tile; Carol's
// WebSocket dropped shows the reconnecting banner until she is back and media
// flows; the room closed shows its reason. The test writes the README's
// screenshots to tests/e2e/screenshots/ (pre-join, 3-person grid, stage, 390 px).

import { browserSuite } from '../helpers/browser/suite.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Call } from '../helpers/browser/call.js';
import { BrowserPeer, type MediaOptions } from '../helpers/browser/peer.js';
import { ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const SHOTS = path.join(ROOT, 'tests/e2e/screenshots');
const MEDIA: MediaOptions = { width: 320, height: 240, fps: 15, fakeFps: 15 };

const serial = browserSuite();

function shot(page: Page, name: string): Promise<Buffer> {
	return page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** A counter of one received stream (RTP packets of a producer) in `peer`'s getStats(). */
async function received(peer: BrowserPeer, producerId: string): Promise<number> {
	const stats = await peer.stats();

	return stats.inbound.find((s) => s.producerId === producerId)?.packetsReceived ?? -1;
}

/**
 * Waits until `peer` receives no packet of `producerId` over a whole second
 * (stopped), or some (flowing): consecutive getStats() samples 1 s apart.
 */
async function streamIs(peer: BrowserPeer, producerId: string, want: 'stopped' | 'flowing'): Promise<void> {
	let before: number | undefined;

	await waitFor(
		async () => {
			const now = await received(peer, producerId);
			const done = before !== undefined && now >= 0 && (want === 'stopped' ? now === before : now > before);

			before = now;

			return done;
		},
		{ timeout: 20_000, interval: 1000, what: `${peer.name}: ${producerId} ${want}` }
	);
}

/** Width of the frames the <video> at `selector` plays (0: none). */
function videoWidth(page: Page, selector: string): Promise<number> {
	return page.evaluate<number>(`document.querySelector(${JSON.stringify(selector)})?.videoWidth ?? 0`);
}

/** The pre-join screen with its camera preview playing and the pickers filled. */
async function atPreJoin(peer: BrowserPeer): Promise<void> {
	await waitFor(
		async () =>
			(await peer.page.locator('#prejoin').isVisible()) &&
			(await videoWidth(peer.page, '#preview')) > 0 &&
			(await peer.page.locator('#camera-select option').count()) > 0 &&
			(await peer.page.locator('#mic-select option').count()) > 0,
		{ timeout: 20_000, what: `${peer.name}: the pre-join preview` }
	);
}

function staged(page: Page): Promise<boolean> {
	return page.locator('#call.staged').isVisible();
}

function tile(page: Page, peerId: string) {
	return page.locator(`#grid .tile[data-peer-id="${peerId}"]`);
}

function producerOf(state: Awaited<ReturnType<BrowserPeer['state']>>, source: string): string {
	const producer = state.producers.find((p) => p.source === source);

	if (!producer) throw new Error(`no ${source} producer`);

	return producer.producerId;
}

serial('the call page: pre-join, mute, camera off, switching the camera, chat, stage, leave, reconnecting banner, room closed', async (t) => {
	t.timeout(240_000);
	await mkdir(SHOTS, { recursive: true });

	const call = await Call.start(t.context.site);
	const launched: BrowserPeer[] = [];

	t.teardown(async () => {
		await Promise.all(launched.map((p) => p.close()));
		await call.close();
	});

	// name: what the test calls the peer; the page's name field starts empty.
	const start = async (name: string, room: string): Promise<BrowserPeer> => {
		const peer = await BrowserPeer.launch({ clientOrigin: call.clientOrigin, serverUrl: call.serverUrl, room, name, prejoin: true, ...MEDIA });

		launched.push(peer);
		await atPreJoin(peer);

		return peer;
	};

	// Alice: the pre-join screen with the mouse.
	const alice = await start('alice', 'create');

	await shot(alice.page, 'prejoin');
	await alice.page.fill('#join-form input[name="name"]', 'Alice');
	await alice.page.click('#join');

	const aliceState = await alice.joined();
	const roomId = aliceState.roomId!;

	t.is(aliceState.displayName, 'Alice', 'the name typed on the pre-join screen');

	// Bob: the room is pre-filled (as from an invite link); he switches his camera off there, then
	// types his name in the focused field and joins with Enter.
	const bob = await start('bob', roomId);

	t.is(await bob.page.inputValue('#join-form input[name="room"]'), roomId);
	// The pre-join screen fits a phone too.
	await bob.page.setViewportSize({ width: 390, height: 844 });
	t.true((await bob.page.evaluate<number>('document.documentElement.scrollWidth')) <= 390, 'the pre-join screen fits 390 px');
	t.true(await bob.page.locator('#join').isVisible());
	await bob.page.setViewportSize({ width: 1280, height: 800 });
	await bob.page.click('#pre-camera');
	await bob.page.locator('#preview-off').waitFor({ state: 'visible', timeout: 10_000 });
	await bob.page.focus('#join-form input[name="name"]');
	await bob.page.keyboard.press('ControlOrMeta+A');
	await bob.page.keyboard.type('Bob');
	await bob.page.keyboard.press('Enter');

	const bobJoined = await bob.joined();
	const bobId = bobJoined.peerId!;
	const aliceId = aliceState.peerId!;

	t.false(bobJoined.producers.some((p) => p.source === 'camera'), 'Bob joined without a camera');
	await waitFor(async () => (await tile(alice.page, bobId).getAttribute('data-camera')) === 'off', { timeout: 10_000, what: "Alice: Bob's tile without video" });
	// Camera on in the call: captured now, and Alice gets the video.
	await bob.page.click('#camera');
	await waitFor(async () => (await tile(alice.page, bobId).getAttribute('data-camera')) === 'on', { timeout: 15_000, what: "Alice: Bob's camera on" });

	call.roomId = roomId;

	const carol = await call.addPeer('carol', MEDIA);

	await call.mediaFlowing([alice, bob, carol]);
	const names = await bob.page.locator('#grid .tile .name').allTextContents();

	t.deepEqual(names.sort(), ['Alice', 'Bob', 'carol'], "Bob's grid: a tile each, with the names");
	t.is(await alice.page.getAttribute('#grid', 'data-count'), '3');
	await shot(alice.page, 'grid-3');

	// Mute: Bob sees Alice's muted icon, and her audio stops arriving; unmute brings both back.
	const aliceMic = producerOf(await alice.state(), 'mic');

	t.false(await tile(bob.page, aliceId).locator('.muted-icon').isVisible(), 'no muted icon before');
	await alice.page.click('#mute');
	await tile(bob.page, aliceId).locator('.muted-icon').waitFor({ state: 'visible', timeout: 10_000 });
	await streamIs(bob, aliceMic, 'stopped');
	t.is(await alice.page.getAttribute('#mute', 'data-off'), 'true', 'the Mute button shows the microphone is off');
	t.is(await alice.page.textContent('#mute'), 'Unmute');
	t.true((await alice.state()).producers.find((p) => p.producerId === aliceMic)?.paused, "Alice's mic producer is paused");
	await alice.page.click('#mute');
	await tile(bob.page, aliceId).locator('.muted-icon').waitFor({ state: 'hidden', timeout: 10_000 });
	await streamIs(bob, aliceMic, 'flowing');
	t.pass('mute: icon shown and audio stopped at Bob; unmute: both back');

	// Camera off: the avatar replaces her video at Bob's, and the video stops arriving.
	const aliceCamera = producerOf(await alice.state(), 'camera');

	await alice.page.click('#camera');
	await waitFor(async () => (await tile(bob.page, aliceId).getAttribute('data-camera')) === 'off', { timeout: 10_000, what: "Bob: Alice's camera off" });
	t.true(await tile(bob.page, aliceId).locator('.avatar').isVisible(), 'the avatar shows');
	await streamIs(bob, aliceCamera, 'stopped');
	t.is((await alice.state()).producers.find((p) => p.producerId === aliceCamera)?.trackState, 'ended', "Alice's camera is released (its light goes off)");
	await alice.page.click('#camera');
	await waitFor(async () => (await tile(bob.page, aliceId).getAttribute('data-camera')) === 'on', { timeout: 10_000, what: "Bob: Alice's camera on" });
	await streamIs(bob, aliceCamera, 'flowing');
	t.is((await alice.state()).producers.find((p) => p.producerId === aliceCamera)?.trackState, 'live', 'the same producer sends a new camera track');

	// Switching the camera in the call's settings panel: the same producer sends the other device's track.
	await alice.page.click('#stats-toggle');

	const cameraBefore = (await alice.state()).producers.find((p) => p.producerId === aliceCamera)?.deviceId;
	const cameraChoices = await alice.page
		.locator('#call-camera-select option')
		.evaluateAll((options) => options.map((o) => ({ id: (o as unknown as { value: string }).value, label: o.textContent ?? '' })));
	// Chromium's fake_device_2 (MJPEG): fake_device_1 is a depth camera WebRTC does not encode (tests/helpers/chromium.ts).
	const otherCamera = cameraChoices.find((c) => c.label === 'fake_device_2' && c.id !== cameraBefore)?.id;

	t.log(`Alice's cameras: ${cameraChoices.map((c) => c.label).join(', ')}; sending from ${cameraBefore?.slice(0, 8)}`);
	t.is(cameraChoices.length, 3, "the settings panel lists Chromium's three fake cameras");
	if (!otherCamera) throw new Error('no fake_device_2 to switch to');
	await alice.page.selectOption('#call-camera-select', otherCamera);
	await waitFor(async () => (await alice.state()).producers.find((p) => p.source === 'camera')?.deviceId === otherCamera, { timeout: 10_000, what: 'Alice sends from the other camera' });
	t.deepEqual(
		(await alice.state()).producers.filter((p) => p.source === 'camera').map((p) => p.producerId),
		[aliceCamera],
		'still one camera producer, the same one'
	);
	t.is(await alice.page.inputValue('#call-camera-select'), otherCamera, 'the picker shows the camera in use');
	await streamIs(bob, aliceCamera, 'flowing');
	await alice.page.click('#stats-toggle');

	// Chat: typed in Alice's panel, it arrives in Bob's with her name (an unread count first).
	await alice.page.click('#chat-toggle');
	await waitFor(
		async () => {
			await alice.page.fill('#chat-text', 'hello from Alice');
			await alice.page.press('#chat-text', 'Enter');

			return (await alice.state()).chat.some((m) => m.own && m.text === 'hello from Alice');
		},
		{ timeout: 30_000, interval: 1000, what: "Alice's chat channel to take the message" }
	);
	await waitFor(async () => (await bob.page.textContent('#chat-unread')) === '1', { timeout: 15_000, what: "Bob's unread count" });
	await bob.page.click('#chat-toggle');

	const message = bob.page.locator('#chat-log .chat-msg').filter({ hasText: 'hello from Alice' });

	t.is(await message.locator('.who').textContent(), 'Alice');
	t.regex((await message.locator('.when').textContent()) ?? '', /\d{1,2}:\d{2}/, 'with the time');
	t.true(await bob.page.locator('#chat-unread').isHidden(), 'read once the panel opens');
	await bob.page.click('#chat-toggle');

	// Screen share: Bob's page switches to the stage layout with the screen on it.
	await alice.page.click('#share');
	await waitFor(async () => (await staged(bob.page)) && (await videoWidth(bob.page, '#stage .tile.screen video')) > 0, {
		timeout: 20_000,
		what: 'Bob: the stage with the screen playing'
	});
	await shot(bob.page, 'stage');

	// 390 px wide (a phone): nothing sticks out sideways, every control is on screen.
	await carol.page.setViewportSize({ width: 390, height: 844 });
	await waitFor(() => staged(carol.page), { timeout: 20_000, what: 'Carol: the stage' });

	const overflow = {
		scrollWidth: await carol.page.evaluate<number>('document.documentElement.scrollWidth'),
		controls: await carol.page.evaluate<number[]>("[...document.querySelectorAll('#controls button:not([hidden])')].map((b) => b.getBoundingClientRect().right)")
	};

	t.true(overflow.scrollWidth <= 390, `page width ${overflow.scrollWidth} px at a 390 px viewport`);
	t.true(overflow.controls.every((right) => right <= 390), 'every control inside the viewport');
	await shot(carol.page, 'phone-390');
	await alice.page.click('#unshare');
	await waitFor(async () => !(await staged(bob.page)), { timeout: 15_000, what: 'Bob: back to the grid' });

	// Leave: Bob's tile disappears at Alice's; Bob sees that he left.
	await bob.page.click('#leave');
	await tile(alice.page, bobId).waitFor({ state: 'detached', timeout: 15_000 });
	t.is(await bob.page.textContent('#ended-title'), 'You left the call');
	t.is(await alice.page.getAttribute('#grid', 'data-count'), '2');

	// Carol's WebSocket drops: the banner shows, then goes once she is back in and media flows.
	await carol.page.evaluate(() => window.vcall.dropWebSocket(3000));
	await carol.page.locator('#banner').waitFor({ state: 'visible', timeout: 10_000 });
	await carol.page.locator('#banner').waitFor({ state: 'hidden', timeout: 45_000 });
	await streamIs(carol, aliceCamera, 'flowing');
	t.true((await carol.state()).rejoins >= 1, 'Carol rejoined');

	// The room closes: the page says why.
	call.server!.rooms.closeAll('the host ended the meeting');
	await alice.page.locator('#ended').waitFor({ state: 'visible', timeout: 10_000 });
	t.is(await alice.page.textContent('#ended-title'), 'The call has ended');
	t.is(await alice.page.textContent('#ended-reason'), 'the host ended the meeting');
});
