// The demo page joins only its own server: a crafted invite link whose
// ?server= names another origin does not connect there unless the user says
// yes in the page's dialog; the page runs under its strict CSP without a
// violation. Real Chromium, a real vcall server (the page's own) and a bare
// HTTP server standing for the attacker's, which counts WebSocket attempts.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import anyTest, { type TestFn } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ClientState } from '../../lib/client/api.js';
import { CHROMIUM_PATH, chromiumArgs, missingPrerequisite } from '../helpers/chromium.js';
import { acquireE2eLock } from '../helpers/lock.js';
import { startServer, type StartedServer } from '../helpers/server.js';
import { buildClient, serveStatic, staticHandler, type StaticServer } from '../helpers/site.js';
import { waitFor } from '../helpers/wait.js';

interface Context {
	release: () => Promise<void>;
	dir: string;
	site: StaticServer;
	own: StartedServer;
	attacker: { server: http.Server; url: string; upgrades: number };
	browser: Browser;
}

const test = anyTest as TestFn<Context>;
const missing = missingPrerequisite();

test.before(async (t) => {
	if (missing) return;

	const { release } = await acquireE2eLock();
	const dir = await buildClient();
	const attackerServer = http.createServer((_req, res) => res.writeHead(404).end());
	const attacker = { server: attackerServer, url: '', upgrades: 0 };

	attackerServer.on('upgrade', (_req, socket) => {
		attacker.upgrades++;
		socket.destroy();
	});
	await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));
	attacker.url = `ws://127.0.0.1:${(attackerServer.address() as AddressInfo).port}/`;

	// The page's host names its server in /config.json; both servers are in its CSP, so only the page's own check stands between a link and the attacker.
	let ownUrl = '';
	const files = (connectSources: string[]) => staticHandler(dir, connectSources);
	const site = await serveStatic(dir, (req, res) => {
		if (req.url?.startsWith('/config.json')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ serverUrl: ownUrl }));
		else files([new URL(ownUrl).origin.replace('http', 'ws'), new URL(attacker.url).origin.replace('http', 'ws')])(req, res);
	});
	const own = await startServer({ frontendUrl: site.origin });

	ownUrl = own.url;
	Object.assign(t.context, { release, dir, site, own, attacker, browser: await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(15) }) });
});

test.after.always(async (t) => {
	const c = t.context;

	await c.browser?.close();
	await c.own?.server.close();
	c.attacker?.server.close();
	await c.site?.close();
	if (c.dir) await rm(c.dir, { recursive: true, force: true });
	await c.release?.();
});

/** Opens a crafted invite link; `answer` is the user's reply to a dialog. Returns the page and the dialogs it showed. */
async function openLink(t: { context: Context }, server: string, answer: boolean): Promise<{ page: Page; dialogs: string[] }> {
	const page = await t.context.browser.newPage();
	const dialogs: string[] = [];

	page.on('dialog', (dialog) => {
		dialogs.push(dialog.message());
		void (answer ? dialog.accept() : dialog.dismiss());
	});
	await page.addInitScript(`window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`);
	await page.goto(`${t.context.site.origin}/?${new URLSearchParams({ server, room: 'create', name: 'victim', video: '0', audio: '0', join: '1' })}`);

	return { page, dialogs };
}

const state = (page: Page) => page.evaluate(() => window.vcall.state()) as Promise<ClientState>;

(missing ? test.serial.skip : test.serial)('a link naming another server is ignored unless the user confirms', async (t) => {
	const { own, attacker } = t.context;
	const attackerOrigin = new URL(attacker.url).host;

	// Declined: the page joins its own server, the attacker's never sees a WebSocket.
	const declined = await openLink(t, attacker.url, false);

	await waitFor(async () => (await state(declined.page)).phase === 'joined', { what: 'the page to join its own server' });
	t.is((await state(declined.page)).serverUrl, own.url);
	t.is(declined.dialogs.length, 1);
	t.true(declined.dialogs[0]!.includes(attackerOrigin), declined.dialogs[0]);
	t.is(attacker.upgrades, 0);
	t.is(own.server.rooms.roomCount, 1);
	t.deepEqual(await declined.page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), [], 'the page runs under its CSP');
	await declined.page.close();

	// The page's own server in the link: no question asked.
	const ownLink = await openLink(t, own.url, false);

	await waitFor(async () => (await state(ownLink.page)).phase === 'joined', { what: 'the page to join with its own server in the link' });
	t.deepEqual(ownLink.dialogs, []);
	await ownLink.page.close();

	// Confirmed: only then does the page try the other server.
	const confirmed = await openLink(t, attacker.url, true);

	await waitFor(() => attacker.upgrades > 0, { what: 'the page to try the server the user accepted' });
	t.is(confirmed.dialogs.length, 1);
	t.is((await state(confirmed.page)).serverUrl, attacker.url);
	await confirmed.page.close();
});
