// One E2E call: the vcall server (in this process, or in a child process when
// its CPU is measured), the client served on 127.0.0.1 and allowed by the
// server's frontendUrl, and the Chromium peers in one room.

import { rm } from 'node:fs/promises';
import type { ConfigInput } from '../../../lib/config/options.js';
import type { Server } from '../../../server/Server.js';
import { startServer } from '../../helpers/server.js';
import type { Browser } from 'playwright-core';
import { BrowserPeer, buildClient, launchSharedBrowser, serveStatic, waitFor, type MediaOptions, type StaticServer } from './harness.js';
import { acquireE2eLock } from './lock.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * The client bundle and its static server, shared by the tests of one file.
 * Holding one also holds the machine-wide E2E lock: test files with browsers
 * run one at a time even when ava runs files in parallel.
 */
export class ClientSite {
	readonly dir: string;
	readonly static: StaticServer;
	/** How long this file waited for the other E2E files (ms). */
	readonly waitedMs: number;
	readonly #release: () => Promise<void>;

	private constructor(dir: string, site: StaticServer, waitedMs: number, release: () => Promise<void>) {
		this.dir = dir;
		this.static = site;
		this.waitedMs = waitedMs;
		this.#release = release;
	}

	static async start(): Promise<ClientSite> {
		const lock = await acquireE2eLock();

		try {
			const dir = await buildClient();

			return new ClientSite(dir, await serveStatic(dir), lock.waitedMs, lock.release);
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

export interface CallOptions {
	server?: ConfigInput;
	/** Run the server in a child process (to measure its CPU alone). */
	serverProcess?: boolean;
	/**
	 * All peers in one Chromium, each in an isolated context (own storage, own
	 * renderer), instead of one Chromium each: saves the per-browser processes
	 * (GPU, audio, network, video capture) when many peers share two cores.
	 */
	sharedBrowser?: boolean;
}

export class Call {
	readonly site: ClientSite;
	readonly serverUrl: string;
	/** The in-process server (undefined with serverProcess). */
	readonly server: Server | undefined;
	readonly process: ServerProcess | undefined;
	readonly peers: BrowserPeer[] = [];
	readonly #sharedBrowser: boolean;
	#browser: Promise<Browser> | undefined;
	roomId = '';

	private constructor(site: ClientSite, serverUrl: string, server: Server | undefined, process: ServerProcess | undefined, sharedBrowser: boolean) {
		this.site = site;
		this.serverUrl = serverUrl;
		this.server = server;
		this.process = process;
		this.#sharedBrowser = sharedBrowser;
	}

	static async start(site: ClientSite, options: CallOptions = {}): Promise<Call> {
		const overrides: ConfigInput = { frontendUrl: site.origin, ...options.server };

		if (options.serverProcess) {
			const child = await startServerProcess(overrides);

			return new Call(site, child.url, undefined, child, options.sharedBrowser ?? false);
		}

		const { server, url } = await startServer(overrides);

		return new Call(site, url, server, undefined, options.sharedBrowser ?? false);
	}

	get listenerKind(): string {
		return this.server?.listenerKind ?? this.process?.listener ?? '?';
	}

	/** Starts a peer that creates the room (first) or joins it; resolves once it has joined. */
	async addPeer(name: string, media: MediaOptions = {}, joinTimeout = 45_000): Promise<BrowserPeer> {
		const creating = !this.roomId;
		if (this.#sharedBrowser) this.#browser ??= launchSharedBrowser(media.fakeFps ?? 30);

		const browser = this.#browser ? await this.#browser : undefined;
		const peer = await BrowserPeer.launch({ clientOrigin: this.site.origin, serverUrl: this.serverUrl, room: this.roomId || 'create', name, ...media }, browser);

		this.peers.push(peer);

		const state = await peer.joined(joinTimeout);

		if (creating) this.roomId = state.roomId ?? '';

		return peer;
	}

	/**
	 * The first peer creates the room, the others join it: together, or one
	 * after the other (`oneByOne`, as people do; it also spares a loaded
	 * machine a burst of a hundred consume requests at once).
	 */
	async addPeers(names: string[], media: MediaOptions = {}, { joinTimeout = 45_000, oneByOne = false } = {}): Promise<BrowserPeer[]> {
		const [first, ...rest] = names;

		if (!first) return [];

		const creating = !this.roomId;
		const peers = creating ? [await this.addPeer(first, media, joinTimeout)] : [];
		const others = creating ? rest : names;

		if (oneByOne) for (const name of others) peers.push(await this.addPeer(name, media, joinTimeout));
		else peers.push(...(await Promise.all(others.map((name) => this.addPeer(name, media, joinTimeout)))));

		return peers;
	}

	peer(name: string): BrowserPeer {
		const peer = this.peers.find((p) => p.name === name);

		if (!peer) throw new Error(`no peer ${name}`);

		return peer;
	}

	/** peerId -> name, from the pages' own state. */
	async names(): Promise<Map<string, string>> {
		const names = new Map<string, string>();

		for (const peer of this.peers) {
			if (peer.page.isClosed()) continue;

			const state = await peer.state().catch(() => undefined);

			if (state?.peerId) names.set(state.peerId, peer.name);
		}

		return names;
	}

	/**
	 * Waits until every peer consumes `expected` streams from each of the
	 * others (audio + video = 2) and decodes video from each of them.
	 */
	async mediaFlowing(peers: BrowserPeer[] = this.peers, { perPeer = 2, timeout = 45_000 } = {}): Promise<void> {
		await Promise.all(
			peers.map(async (peer) => {
				let last = 'no stats yet';

				try {
					await waitFor(
						async () => {
							const stats = await peer.stats();
							const others = peers.length - 1;
							const consumed = stats.inbound.length;
							const videosDecoding = stats.inbound.filter((s) => s.kind === 'video' && (s.framesDecoded ?? 0) > 0).length;
							const audioPlaying = stats.inbound.filter((s) => s.kind === 'audio' && (s.totalSamplesReceived ?? 0) > 0).length;

							last = `${consumed} streams consumed, ${videosDecoding} videos decoding, ${audioPlaying} audios playing`;

							return consumed >= others * perPeer && videosDecoding >= others && audioPlaying >= others;
						},
						{ timeout, interval: 500, what: `${peer.name} to receive audio and video from ${peers.length - 1} peers` }
					);
				} catch (error) {
					const state = await peer.state().catch(() => undefined);

					throw new Error(
						`${(error as Error).message}; ${last}; ${state?.consumers.length ?? '?'} consumers, errors: ${state?.errors.join(' | ') || 'none'}`
					);
				}
			})
		);
	}

	async close(): Promise<void> {
		await Promise.all(this.peers.map((p) => p.close()));
		// A browser that failed to launch must not keep the server below from stopping.
		await this.#browser?.then((browser) => browser.close()).catch(() => undefined);
		if (this.server) await this.server.shutdown('test over');
		if (this.process) await this.process.stop();
	}
}
