// Headless Chromium peers for the browser suites (Debian's /usr/bin/chromium
// driven by playwright-core, fake camera and microphone): one fresh
// user-data-dir per browser, or isolated contexts of one shared browser, each
// loading the client page.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ClientState, StatsSnapshot, VcallApi } from '../../../lib/client/api.js';
import { CHROMIUM_PATH, chromiumArgs } from '../chromium.js';
import { Fatal, waitFor } from '../wait.js';

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
	/** Stop at the page's pre-join screen (the test fills it in) instead of joining at once. */
	prejoin?: boolean;
}

/** The client page's URL for these options (its URL parameters, see lib/client/main.ts). */
export function clientUrl(options: PeerOptions): string {
	const dtlsRole = options.dtlsRole ?? (process.env.VCALL_E2E_DTLS_ROLE as PeerOptions['dtlsRole']);
	const params = new URLSearchParams({
		server: options.serverUrl,
		room: options.room,
		name: options.name,
		...(options.prejoin ? {} : { join: '1' }),
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

/** How a peer's Chromium is started (defaults: the E2E tests' browser). */
export interface LaunchOptions {
	/** The browser binary (e.g. a wrapper that runs Chromium in a network namespace). */
	executablePath?: string;
	/** Flags on top of chromiumArgs(). */
	extraArgs?: string[];
	/** Script run in the page before its own (context.addInitScript). */
	initScript?: string;
	viewport?: { width: number; height: number };
	/** ms for the browser to start and the page to load (Playwright's default: 30 s). */
	timeout?: number;
}

/** One participant: a Chromium of its own (fresh user-data-dir) with the client page. */
export class BrowserPeer {
	readonly name: string;
	readonly context: BrowserContext;
	readonly page: Page;
	/** Console errors and uncaught exceptions of the page (for failure reports). */
	readonly consoleErrors: string[] = [];
	readonly #userDataDir: string;
	#closed = false;

	private constructor(name: string, context: BrowserContext, page: Page, userDataDir: string) {
		this.name = name;
		this.context = context;
		this.page = page;
		this.#userDataDir = userDataDir;
		page.on('console', (msg) => {
			if (msg.type() === 'error') this.consoleErrors.push(msg.text());
		});
		page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
		// The tests' server is on another origin than the page: the page asks before joining it, and this user says yes.
		page.on('dialog', (dialog) => void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss()));
	}

	/**
	 * Starts a Chromium of its own with a fresh user-data-dir or, given
	 * `browser`, a fresh isolated context (its own storage and renderer
	 * process) in that shared Chromium.
	 */
	static async launch(options: PeerOptions & LaunchOptions, browser?: Browser): Promise<BrowserPeer> {
		const viewport = options.viewport ?? { width: 1280, height: 800 };
		const timeout = options.timeout ?? 30_000;
		let context: BrowserContext;
		let userDataDir = '';

		if (browser) context = await browser.newContext({ viewport });
		else {
			userDataDir = await mkdtemp(path.join(os.tmpdir(), 'vcall-chromium-'));
			try {
				context = await chromium.launchPersistentContext(userDataDir, {
					executablePath: options.executablePath ?? CHROMIUM_PATH,
					headless: true,
					timeout,
					args: [...chromiumArgs(options.fakeFps ?? options.fps ?? 30), ...(options.extraArgs ?? [])],
					viewport
				});
			} catch (error) {
				await rm(userDataDir, { recursive: true, force: true });
				throw error;
			}
		}

		const page = context.pages()[0] ?? (await context.newPage());
		const peer = new BrowserPeer(options.name, context, page, userDataDir);

		try {
			if (options.initScript) await context.addInitScript(options.initScript);
			await page.goto(clientUrl(options), { timeout });
		} catch (error) {
			await peer.close();
			throw error;
		}

		return peer;
	}

	/** Throws Fatal (ends any waitFor) if the call is over for this page (phase 'failed' or 'closed'). */
	assertAlive(state: ClientState): void {
		if (state.phase === 'failed' || state.phase === 'closed') throw new Fatal(`${this.name}: ${state.phase}: ${state.errors.join('; ')}`);
	}

	/** Waits for phase 'joined'; returns the state. */
	async joined(timeout = 30_000): Promise<ClientState> {
		let last: ClientState | undefined;

		try {
			return await waitFor(
				async () => {
					const state = await this.state();

					last = state;
					this.assertAlive(state);

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
