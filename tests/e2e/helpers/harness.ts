// What every E2E test needs: the browser client built and served from a
// static HTTP server on 127.0.0.1, headless Chromium peers (Debian's
// /usr/bin/chromium driven by playwright-core, fake camera and microphone,
// one fresh user-data-dir per browser, or isolated contexts of one shared
// browser) that load the client, and polling with a deadline.

import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ClientState, StatsSnapshot, VcallApi } from '../../../lib/client/api.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Repository root (this file runs from dist/tests/e2e/helpers/). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Why the E2E tests cannot run here, or undefined. */
export function missingPrerequisite(): string | undefined {
	if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
	if (!existsSync(path.join(ROOT, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker')) && !process.env.MEDIASOUP_WORKER_BIN)
		return 'no mediasoup worker binary (node_modules/mediasoup/worker/out/Release/mediasoup-worker)';

	return undefined;
}

// ---- Polling ----

/** Thrown by a waitFor probe: stop waiting, the condition can no longer come true. */
export class Fatal extends Error {}

export async function waitFor<T>(
	probe: () => Promise<T | undefined | false> | T | undefined | false,
	{ timeout = 20_000, interval = 200, what = 'condition' }: { timeout?: number; interval?: number; what?: string } = {}
): Promise<T> {
	const deadline = Date.now() + timeout;
	let lastError: unknown;

	for (;;) {
		try {
			const value = await probe();

			if (value !== undefined && value !== false) return value;
		} catch (error) {
			if (error instanceof Fatal) throw error;
			lastError = error;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
		}
		await new Promise((resolve) => setTimeout(resolve, interval));
	}
}

// ---- The client, built and served ----

const execFileAsync = promisify(execFile);

/** Bundles lib/client into a fresh temporary directory (so parallel test files never share one). */
export async function buildClient(): Promise<string> {
	const outdir = await mkdtemp(path.join(os.tmpdir(), 'vcall-client-'));

	await execFileAsync(process.execPath, [path.join(ROOT, 'scripts/build-client.mjs'), '--outdir', outdir], { cwd: ROOT });

	return outdir;
}

const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.map': 'application/json'
};

export interface StaticServer {
	origin: string;
	close(): Promise<void>;
}

/** Serves the files under dir (index.html at /), nothing outside it. */
export function staticHandler(dir: string): http.RequestListener {
	return (req, res) => {
		const url = new URL(req.url ?? '/', 'http://x');
		let file: string;

		try {
			file = path.resolve(dir, `.${url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)}`);
		} catch {
			res.writeHead(400).end(); // a malformed escape such as /%E0
			return;
		}

		if (!file.startsWith(dir + path.sep)) {
			res.writeHead(403).end();
			return;
		}
		stat(file).then(
			(info) => {
				if (!info.isFile()) throw new Error('not a file');
				res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-store' });
				createReadStream(file).pipe(res);
			},
			() => res.writeHead(404).end()
		);
	};
}

export async function serveStatic(dir: string): Promise<StaticServer> {
	const server = http.createServer(staticHandler(dir));

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

	const { port } = server.address() as AddressInfo;

	return {
		origin: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

// ---- Chromium peers ----

/** One Chromium for several peers (Playwright gives it a fresh temporary user-data-dir). */
export function launchSharedBrowser(fakeFps: number): Promise<Browser> {
	return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(fakeFps) });
}

export interface MediaOptions {
	/** getUserMedia constraints (ideal values). */
	width?: number;
	height?: number;
	fps?: number;
	/** Frame rate of Chromium's fake camera (its default is 20). */
	fakeFps?: number;
	maxKbps?: number;
	audio?: boolean;
	video?: boolean;
	/** Width of the remote video tiles on the page, px (client URL parameter tile). */
	tile?: number;
	/** How often the page refreshes its own figures, ms (0: never; client URL parameter figures). */
	figuresMs?: number;
	/** Echo cancellation, noise suppression and gain control on the microphone (default true). */
	audioProcessing?: boolean;
	/** The browser's DTLS role (client URL parameter dtlsRole); default from VCALL_E2E_DTLS_ROLE. */
	dtlsRole?: 'client' | 'server';
	/** Media only through TURN (client URL parameter relay: iceTransportPolicy 'relay'). */
	relayOnly?: boolean;
	/** Ask the server for ICE over TCP only (client URL parameter tcp). */
	tcp?: boolean;
}

export interface PeerOptions extends MediaOptions {
	clientOrigin: string;
	serverUrl: string;
	/** A room id, or 'create'. */
	room: string;
	name: string;
}

/** The client page's URL for these options (its URL parameters, see lib/client/main.ts). */
export function clientUrl(options: PeerOptions): string {
	const dtlsRole = options.dtlsRole ?? (process.env.VCALL_E2E_DTLS_ROLE as PeerOptions['dtlsRole']);
	const params = new URLSearchParams({
		server: options.serverUrl,
		room: options.room,
		name: options.name,
		w: String(options.width ?? 640),
		h: String(options.height ?? 480),
		fps: String(options.fps ?? 30),
		audio: options.audio === false ? '0' : '1',
		video: options.video === false ? '0' : '1',
		...(options.maxKbps ? { maxKbps: String(options.maxKbps) } : {}),
		...(dtlsRole ? { dtlsRole } : {}),
		...(options.relayOnly ? { relay: '1' } : {}),
		...(options.tcp ? { tcp: '1' } : {}),
		...(options.tile ? { tile: String(options.tile) } : {}),
		...(options.figuresMs !== undefined ? { figures: String(options.figuresMs) } : {}),
		...(options.audioProcessing === false ? { audioProcessing: '0' } : {})
	});

	return `${options.clientOrigin}/?${params.toString()}`;
}

export function chromiumArgs(fakeFps: number): string[] {
	return [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		`--use-fake-device-for-media-stream=fps=${fakeFps}`,
		'--use-fake-ui-for-media-stream',
		// Remote audio is pulled (and counted in totalSamplesReceived) only while it plays.
		'--autoplay-policy=no-user-gesture-required',
		// Background tabs must not be throttled: every peer is a visible page of its own browser anyway.
		'--disable-background-timer-throttling',
		'--disable-renderer-backgrounding',
		'--disable-backgrounding-occluded-windows',
		// Extra flags for experiments, space-separated.
		...(process.env.VCALL_E2E_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? [])
	];
}

/** One participant: a Chromium of its own (fresh user-data-dir) with the client page. */
export class BrowserPeer {
	readonly name: string;
	readonly context: BrowserContext;
	readonly page: Page;
	readonly #userDataDir: string;
	readonly consoleErrors: string[] = [];
	#closed = false;

	private constructor(name: string, context: BrowserContext, page: Page, userDataDir: string) {
		this.name = name;
		this.context = context;
		this.page = page;
		this.#userDataDir = userDataDir;
		page.on('console', (msg) => {
			if (msg.type() === 'error' || msg.type() === 'warning') this.consoleErrors.push(msg.text());
		});
		page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
	}

	/**
	 * Starts a Chromium of its own with a fresh user-data-dir or, given
	 * `browser`, a fresh isolated context (its own storage and renderer
	 * process) in that shared Chromium.
	 */
	static async launch(options: PeerOptions, browser?: Browser): Promise<BrowserPeer> {
		const viewport = { width: 1280, height: 800 };
		let context: BrowserContext;
		let userDataDir = '';

		if (browser) context = await browser.newContext({ viewport });
		else {
			userDataDir = await mkdtemp(path.join(os.tmpdir(), 'vcall-chromium-'));
			context = await chromium.launchPersistentContext(userDataDir, {
				executablePath: CHROMIUM_PATH,
				headless: true,
				args: chromiumArgs(options.fakeFps ?? 30),
				viewport
			});
		}

		const page = context.pages()[0] ?? (await context.newPage());
		const peer = new BrowserPeer(options.name, context, page, userDataDir);
		try {
			await page.goto(clientUrl(options));
		} catch (error) {
			await peer.close();
			throw error;
		}

		return peer;
	}

	/** Waits for phase 'joined'; returns the state. */
	async joined(timeout = 30_000): Promise<ClientState> {
		let last: ClientState | undefined;

		try {
			return await waitFor(
				async () => {
					const state = await this.state();

					last = state;
					if (state.phase === 'failed' || state.phase === 'closed') throw new Fatal(`${this.name}: ${state.phase}: ${state.errors.join('; ')}`);

					return state.phase === 'joined' ? state : undefined;
				},
				{ timeout, what: `${this.name} to join` }
			);
		} catch (error) {
			const tail = last?.events
				.slice(-8)
				.map((e) => e.type)
				.join(', ');

			throw new Error(`${(error as Error).message}; phase ${last?.phase ?? '?'}, last events: ${tail ?? '-'}; errors: ${last?.errors.join(' | ') || 'none'}`);
		}
	}

	state(): Promise<ClientState> {
		return this.page.evaluate(() => window.vcall.state());
	}

	stats(): Promise<StatsSnapshot> {
		return this.page.evaluate(() => window.vcall.stats());
	}

	/** Kills the page's renderer process, as a crash would: no unload handlers, no goodbye. */
	async crash(): Promise<void> {
		const session = await this.context.newCDPSession(this.page);

		// The call never answers: the renderer is gone.
		void session.send('Page.crash').catch(() => undefined);
		await new Promise<void>((resolve) => {
			if (this.page.isClosed()) resolve();
			this.page.once('crash', () => resolve());
		});
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.context.close().catch(() => undefined);
		if (this.#userDataDir) await rm(this.#userDataDir, { recursive: true, force: true }).catch(() => undefined);
	}
}

// Inside page.evaluate() callbacks (which run in the page), `window` is the page's.
declare global {
	var window: { vcall: VcallApi };
}
