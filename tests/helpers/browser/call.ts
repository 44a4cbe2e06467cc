// A browser call: Chromium peers in one room of a server (BrowserRoom), and
// the E2E call around it (Call): the vcall server, in this process or in a
// child process when its CPU is measured, and the client served on 127.0.0.1
// and allowed by the server's frontendUrl.

import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import type { ConfigInput } from '../../../lib/config/options.js';
import type { Server } from '../../../server/Server.js';
import { acquireE2eLock } from '../lock.js';
import { ServerProcess } from '../server-process.js';
import { startServer } from '../server.js';
import { buildClient, serveStatic, type StaticServer } from '../site.js';
import { waitFor } from '../wait.js';
import { BrowserPeer, launchSharedBrowser, type LaunchOptions, type MediaOptions } from './peer.js';

/**
 * The client bundle and its static server, shared by the tests of one file.
 * Holding one also holds the machine-wide E2E lock: test files with browsers
 * run one at a time even when ava runs files in parallel.
 */
export class ClientSite {
	readonly dir: string;
	readonly static: StaticServer;
	readonly #release: () => Promise<void>;

	private constructor(dir: string, site: StaticServer, release: () => Promise<void>) {
		this.dir = dir;
		this.static = site;
		this.#release = release;
	}

	static async start(): Promise<ClientSite> {
		const lock = await acquireE2eLock();

		try {
			const dir = await buildClient();

			return new ClientSite(dir, await serveStatic(dir), lock.release);
		} catch (error) {
			await lock.release();
			throw error;
		}
	}

	get origin(): string {
		return this.static.origin;
	}

	async close(): Promise<void> {
		try {
			await this.static.close();
			await rm(this.dir, { recursive: true, force: true });
		} finally {
			await this.#release();
		}
	}
}

/** peerId -> name, from the pages' own state (closed pages are left out). */
export async function peerNames(peers: BrowserPeer[]): Promise<Map<string, string>> {
	const names = new Map<string, string>();

	for (const peer of peers) {
		if (peer.page.isClosed()) continue;

		const state = await peer.state().catch(() => undefined);

		if (state?.peerId) names.set(state.peerId, peer.name);
	}

	return names;
}

/**
 * Waits until every peer consumes `perPeer` streams from each of the others
 * (audio + video = 2), decodes video from each of them and plays their
 * audio; fails at once if a page's call is over.
 */
export async function mediaFlowing(peers: BrowserPeer[], { perPeer = 2, timeout = 45_000 } = {}): Promise<void> {
	const others = peers.length - 1;

	await Promise.all(
		peers.map(async (peer) => {
			let last = 'no stats yet';

			try {
				await waitFor(
					async () => {
						peer.assertAlive(await peer.state());

						const stats = await peer.stats();
						const consumed = stats.inbound.length;
						const videosDecoding = stats.inbound.filter((s) => s.kind === 'video' && (s.framesDecoded ?? 0) > 0).length;
						const audioPlaying = stats.inbound.filter((s) => s.kind === 'audio' && (s.totalSamplesReceived ?? 0) > 0).length;

						last = `${consumed} streams consumed, ${videosDecoding} videos decoding, ${audioPlaying} audios playing`;

						return consumed >= others * perPeer && videosDecoding >= others && audioPlaying >= others;
					},
					{ timeout, interval: 500, what: `${peer.name} to receive audio and video from ${others} peers` }
				);
			} catch (error) {
				const state = await peer.state().catch(() => undefined);

				throw new Error(`${(error as Error).message}; ${last}; ${state?.consumers.length ?? '?'} consumers, errors: ${state?.errors.join(' | ') || 'none'}`);
			}
		})
	);
}

export interface RoomOptions {
	clientOrigin: string;
	serverUrl: string;
	/**
	 * All peers in one Chromium, each in an isolated context (own storage, own
	 * renderer), instead of one Chromium each: saves the per-browser processes
	 * (GPU, audio, network, video capture) when many peers share two cores.
	 */
	sharedBrowser?: boolean;
}

/** Chromium peers in one room: the first one added creates it, the others join it. */
export class BrowserRoom {
	readonly clientOrigin: string;
	readonly serverUrl: string;
	readonly peers: BrowserPeer[] = [];
	readonly #sharedBrowser: boolean;
	#browser: Promise<Browser> | undefined;
	roomId = '';

	constructor({ clientOrigin, serverUrl, sharedBrowser = false }: RoomOptions) {
		this.clientOrigin = clientOrigin;
		this.serverUrl = serverUrl;
		this.#sharedBrowser = sharedBrowser;
	}

	/** Starts a peer that creates the room (first) or joins it; resolves once it has joined. */
	async addPeer(name: string, media: MediaOptions & LaunchOptions = {}, joinTimeout = 45_000): Promise<BrowserPeer> {
		const creating = !this.roomId;
		if (this.#sharedBrowser) this.#browser ??= launchSharedBrowser(media.fakeFps ?? 30);

		const browser = this.#browser ? await this.#browser : undefined;
		const peer = await BrowserPeer.launch({ clientOrigin: this.clientOrigin, serverUrl: this.serverUrl, room: this.roomId || 'create', name, ...media }, browser);

		this.peers.push(peer);

		const state = await peer.joined(joinTimeout);

		if (creating) {
			if (!state.roomId) throw new Error(`${name} joined no room`);
			this.roomId = state.roomId;
		}

		return peer;
	}

	/**
	 * The first peer creates the room, the others join it: together, or one
	 * after the other (`oneByOne`, as people do; it also spares a loaded
	 * machine a burst of a hundred consume requests at once).
	 */
	async addPeers(names: string[], media: MediaOptions & LaunchOptions = {}, { joinTimeout = 45_000, oneByOne = false } = {}): Promise<BrowserPeer[]> {
		const [first, ...rest] = names;

		if (!first) return [];

		const creating = !this.roomId;
		const peers = creating ? [await this.addPeer(first, media, joinTimeout)] : [];
		const others = creating ? rest : names;

		if (oneByOne) for (const name of others) peers.push(await this.addPeer(name, media, joinTimeout));
		else peers.push(...(await Promise.all(others.map((name) => this.addPeer(name, media, joinTimeout)))));

		return peers;
	}

	/** peerId -> name of this room's peers. */
	names(): Promise<Map<string, string>> {
		return peerNames(this.peers);
	}

	mediaFlowing(peers: BrowserPeer[] = this.peers, options: { perPeer?: number; timeout?: number } = {}): Promise<void> {
		return mediaFlowing(peers, options);
	}

	async close(): Promise<void> {
		await Promise.all(this.peers.map((p) => p.close()));
		// A browser that failed to launch must not keep the caller from going on.
		await this.#browser?.then((browser) => browser.close()).catch(() => undefined);
	}
}

export interface CallOptions {
	server?: ConfigInput;
	/** Run the server in a child process (to measure its CPU alone). */
	serverProcess?: boolean;
	sharedBrowser?: boolean;
}

export class Call extends BrowserRoom {
	readonly site: ClientSite;
	/** The in-process server (undefined with serverProcess). */
	readonly server: Server | undefined;
	readonly process: ServerProcess | undefined;

	private constructor(site: ClientSite, serverUrl: string, server: Server | undefined, process: ServerProcess | undefined, sharedBrowser: boolean) {
		super({ clientOrigin: site.origin, serverUrl, sharedBrowser });
		this.site = site;
		this.server = server;
		this.process = process;
	}

	static async start(site: ClientSite, options: CallOptions = {}): Promise<Call> {
		const overrides: ConfigInput = { frontendUrl: site.origin, ...options.server };

		if (options.serverProcess) {
			const child = await ServerProcess.start({ overrides, echo: true });

			return new Call(site, child.url, undefined, child, options.sharedBrowser ?? false);
		}

		const { server, url } = await startServer(overrides);

		return new Call(site, url, server, undefined, options.sharedBrowser ?? false);
	}

	get listenerKind(): string {
		return this.server?.listenerKind ?? this.process?.listener ?? '?';
	}

	override async close(): Promise<void> {
		await super.close();
		if (this.server) await this.server.shutdown('test over');
		if (this.process) await this.process.stop();
	}
}
