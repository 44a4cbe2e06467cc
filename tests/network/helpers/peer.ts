// A Chromium peer living in a client namespace: like the E2E BrowserPeer
// (same flags, fake camera and microphone, fresh user-data-dir), but started
// through the network's wrapper script, with the static origin on 10.77.0.1
// treated as secure (getUserMedia needs a secure context), and with every
// RTCPeerConnection of the page kept for raw getStats() (NACK and
// retransmission counters the client's own figures leave out).

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ClientState, StatsSnapshot } from '../../../lib/client/api.js';
import { chromiumArgs, clientUrl, Fatal, waitFor, type PeerOptions } from '../../e2e/helpers/harness.js';
import type { Network } from './lab.js';

export interface NetPeerOptions extends PeerOptions {
	/** The client namespace the browser runs in. */
	network: Network;
}

/** Sums of the raw RTP counters of all the page's peer connections, per direction and kind. */
export interface RtpCounters {
	/** outbound-rtp: NACKs received from the SFU, packets resent (RTX), PLIs and FIRs received. */
	sent: Record<'audio' | 'video', { packets: number; nackCount?: number; retransmittedPackets?: number; pliCount?: number; firCount?: number; remotePacketsLost?: number }>;
	/** inbound-rtp: NACKs sent to the SFU, RTX packets received, PLIs and FIRs sent, packets lost. */
	received: Record<'audio' | 'video', { packets: number; packetsLost: number; nackCount?: number; retransmittedPackets?: number; pliCount?: number; firCount?: number; keyFramesDecoded?: number }>;
}

// Runs in the page before its scripts: records every RTCPeerConnection.
const TRACK_PEER_CONNECTIONS = `(() => {
	const Native = window.RTCPeerConnection;
	if (!Native || window.__netTestPcs) return;
	const pcs = [];
	Object.defineProperty(window, '__netTestPcs', { value: pcs });
	window.RTCPeerConnection = new Proxy(Native, {
		construct(target, args, newTarget) {
			const pc = Reflect.construct(target, args, newTarget);
			pcs.push(pc);
			return pc;
		}
	});
})();`;

// Evaluated in the page: raw counters summed over the open peer connections.
// mediasoup's bandwidth probe (RTP padding on SSRC 1234, mid 'probator' in the
// receive transport) is left out: it is no media, the browser counts its
// sequence gaps as lost and NACKs and PLIs it, and mediasoup ignores those.
const RAW_RTP_COUNTERS = `(async () => {
	const zero = () => ({ packets: 0 });
	const out = { sent: { audio: zero(), video: zero() }, received: { audio: { ...zero(), packetsLost: 0 }, video: { ...zero(), packetsLost: 0 } } };
	const add = (target, key, value) => { if (typeof value === 'number') target[key] = (target[key] ?? 0) + value; };
	for (const pc of window.__netTestPcs ?? []) {
		if (pc.connectionState === 'closed') continue;
		const report = await pc.getStats();
		const all = [...report.values()];
		for (const r of all) {
			if (r.type === 'outbound-rtp' && out.sent[r.kind]) {
				const s = out.sent[r.kind];
				add(s, 'packets', r.packetsSent);
				add(s, 'nackCount', r.nackCount);
				add(s, 'retransmittedPackets', r.retransmittedPacketsSent);
				add(s, 'pliCount', r.pliCount);
				add(s, 'firCount', r.firCount);
				const remote = all.find((x) => x.type === 'remote-inbound-rtp' && x.localId === r.id);
				if (remote) add(s, 'remotePacketsLost', remote.packetsLost);
			} else if (r.type === 'inbound-rtp' && out.received[r.kind] && r.mid !== 'probator' && r.ssrc !== 1234) {
				const s = out.received[r.kind];
				add(s, 'packets', r.packetsReceived);
				add(s, 'packetsLost', r.packetsLost);
				add(s, 'nackCount', r.nackCount);
				add(s, 'retransmittedPackets', r.retransmittedPacketsReceived);
				add(s, 'pliCount', r.pliCount);
				add(s, 'firCount', r.firCount);
				add(s, 'keyFramesDecoded', r.keyFramesDecoded);
			}
		}
	}
	return out;
})()`;

export class NetPeer {
	readonly name: string;
	readonly network: Network;
	readonly context: BrowserContext;
	readonly page: Page;
	readonly consoleErrors: string[] = [];
	readonly #userDataDir: string;
	#closed = false;

	private constructor(name: string, network: Network, context: BrowserContext, page: Page, userDataDir: string) {
		this.name = name;
		this.network = network;
		this.context = context;
		this.page = page;
		this.#userDataDir = userDataDir;
		page.on('console', (msg) => {
			if (msg.type() === 'error') this.consoleErrors.push(msg.text());
		});
		page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
	}

	static async launch(options: NetPeerOptions): Promise<NetPeer> {
		const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'vcall-netpeer-'));
		let context: BrowserContext;

		try {
			context = await chromium.launchPersistentContext(userDataDir, {
				executablePath: options.network.chromium,
				headless: true,
				timeout: 60_000,
				args: [...chromiumArgs(options.fakeFps ?? options.fps ?? 30), `--unsafely-treat-insecure-origin-as-secure=${options.clientOrigin}`],
				viewport: { width: 960, height: 720 }
			});
		} catch (error) {
			await rm(userDataDir, { recursive: true, force: true });
			throw error;
		}

		const page = context.pages()[0] ?? (await context.newPage());
		const peer = new NetPeer(options.name, options.network, context, page, userDataDir);
		try {
			await context.addInitScript(TRACK_PEER_CONNECTIONS);
			await page.goto(clientUrl(options), { timeout: 60_000 });
		} catch (error) {
			await peer.close();
			throw error;
		}

		return peer;
	}

	state(): Promise<ClientState> {
		return this.page.evaluate(() => window.vcall.state());
	}

	stats(): Promise<StatsSnapshot> {
		return this.page.evaluate(() => window.vcall.stats());
	}

	rtpCounters(): Promise<RtpCounters> {
		return this.page.evaluate(RAW_RTP_COUNTERS) as Promise<RtpCounters>;
	}

	/** Waits for phase 'joined'; fails at once on 'failed' or 'closed'. */
	async joined(timeout = 45_000): Promise<ClientState> {
		return waitFor(
			async () => {
				const state = await this.state();

				this.assertAlive(state);

				return state.phase === 'joined' ? state : undefined;
			},
			{ timeout, interval: 250, what: `${this.name} to join` }
		);
	}

	/** Throws Fatal (ends any waitFor) if the call is over for this page (phase 'failed' or 'closed'). */
	assertAlive(state: ClientState): void {
		if (state.phase === 'failed' || state.phase === 'closed') throw new Fatal(`${this.name}: ${state.phase}: ${state.errors.join('; ')}`);
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.context.close().catch(() => undefined);
		await rm(this.#userDataDir, { recursive: true, force: true }).catch(() => undefined);
	}
}

/** Counter differences (end - start); undefined where the browser does not report the field. */
export function rtpDelta(start: RtpCounters, end: RtpCounters): RtpCounters {
	const diff = <T extends Record<string, number | undefined>>(a: T, b: T): T => {
		const out: Record<string, number | undefined> = {};

		for (const key of Object.keys(b)) {
			const before = a[key];
			const after = b[key];

			out[key] = typeof after === 'number' ? after - (typeof before === 'number' ? before : 0) : undefined;
		}

		return out as T;
	};

	return {
		sent: { audio: diff(start.sent.audio, end.sent.audio), video: diff(start.sent.video, end.sent.video) },
		received: { audio: diff(start.received.audio, end.received.audio), video: diff(start.received.video, end.received.video) }
	};
}
