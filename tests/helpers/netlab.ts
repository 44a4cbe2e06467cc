// A small internet in network namespaces, for one test:
//
//   srv   bridge br0 10.77.0.1/24: the vcall server (server-process.ts, media
//         on 0.0.0.0 announcing 10.77.0.1) and a static server for the
//         client bundle on 10.77.0.1:8080. No default route: nothing leaves.
//   rN    a home router: `wan` 10.77.0.(10+N)/24 on srv's bridge, `lan`
//         192.168.N.1/24, forwarding on, nft masquerade out of `wan`, plus
//         what the test asks for: UDP dropped, random loss, a tbf rate cap.
//   cN    a client host: eth0 192.168.N.2/24, default route via rN; Chromium
//         runs here through a wrapper script (`ip netns exec cN chromium`).
//
// The server has no route to any 192.168.N.0/24: a peer is reachable only
// through its router's NAT, as from behind a home router.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from './chromium.js';
import { IP, Sandbox } from './netns.js';
import { OutputTail } from './output-tail.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';

export const SERVER_IP = '10.77.0.1';
export const SERVER_PORT = 3000;
export const STATIC_PORT = 8080;
export const RTC_MIN_PORT = 40000;
export const RTC_MAX_PORT = 40099;

export interface NetworkOptions {
	/** Drop every forwarded UDP packet, both directions (ICE must fall back to TCP). */
	dropUdp?: boolean;
	/** Drop this percentage of forwarded packets at random, each direction (nft numgen). */
	lossPct?: number;
	/** Cap the link at this many kbit/s, each direction (tc tbf on both router interfaces). */
	rateKbit?: number;
}

export interface Network {
	index: number;
	router: string;
	client: string;
	/** The router's address on the server's LAN: the peer's address as the server sees it. */
	publicIp: string;
	clientIp: string;
	/** Executable for playwright: Chromium inside the client namespace. */
	chromium: string;
	options: NetworkOptions;
}

/** nft named counters of a router, by name (packets, bytes). */
export type Counters = Record<string, { packets: number; bytes: number }>;

export interface QdiscStats {
	dev: string;
	bytes: number;
	packets: number;
	drops: number;
	overlimits: number;
}

/** Something closed before the lab goes (browsers). */
interface Closable {
	close(): Promise<void>;
}

export class Lab {
	readonly sandbox: Sandbox;
	readonly srv: string;
	readonly networks: Network[] = [];
	readonly serverUrl = `ws://${SERVER_IP}:${SERVER_PORT}/`;
	readonly origin = `http://${SERVER_IP}:${STATIC_PORT}`;
	readonly #tmp: string;
	readonly #closables: Closable[] = [];
	#server: ServerProcess | undefined;
	#static: OutputTail | undefined;

	private constructor(sandbox: Sandbox, srv: string, tmp: string) {
		this.sandbox = sandbox;
		this.srv = srv;
		this.#tmp = tmp;
	}

	/**
	 * Creates the server host and starts the vcall server and the static
	 * server there. On failure, everything created so far is removed.
	 */
	static async start(tag: string, clientDir: string): Promise<Lab> {
		const sandbox = new Sandbox(tag);
		const tmp = await mkdtemp(path.join(os.tmpdir(), 'vcall-netlab-'));
		let lab: Lab | undefined;

		try {
			const srv = await sandbox.namespace('srv');

			lab = new Lab(sandbox, srv, tmp);
			await sandbox.ip(srv, 'link', 'add', 'br0', 'type', 'bridge');
			await sandbox.ip(srv, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'br0');
			await sandbox.ip(srv, 'link', 'set', 'dev', 'br0', 'up');
			await lab.#startServers(clientDir);

			return lab;
		} catch (error) {
			if (lab) await lab.destroy();
			else {
				await sandbox.destroy();
				await rm(tmp, { recursive: true, force: true });
			}
			throw error;
		}
	}

	async #startServers(clientDir: string): Promise<void> {
		// Children get a clean environment: no settings of the developer's shell.
		const env: NodeJS.ProcessEnv = {
			PATH: process.env.PATH,
			HOME: process.env.HOME,
			...(process.env.MEDIASOUP_WORKER_BIN ? { MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN } : {}),
			...(process.env.VCALL_NETWORK_DEBUG ? { DEBUG: process.env.VCALL_NETWORK_DEBUG } : {})
		};
		const staticChild = this.sandbox.spawn(this.srv, process.execPath, [
			fileURLToPath(new URL('./static-server.js', import.meta.url)),
			clientDir,
			SERVER_IP,
			String(STATIC_PORT)
		], { env });
		const staticOutput = new OutputTail(staticChild);

		this.#static = staticOutput;

		const staticReady = waitFor(
			() => {
				if (staticChild.exitCode !== null || staticChild.signalCode !== null) throw new Error(`static server exited (${staticChild.exitCode ?? staticChild.signalCode})`);

				return staticOutput.lines.some((line) => line.startsWith('static listening'));
			},
			{ timeout: 30_000, interval: 100, what: 'the static server to listen' }
		).catch((error: unknown) => {
			throw new Error(`${error instanceof Error ? error.message : String(error)}\n${staticOutput.tail(30, 'static')}`);
		});
		const [, server] = await Promise.all([
			staticReady,
			ServerProcess.start({
				overrides: {
					host: SERVER_IP,
					port: SERVER_PORT,
					frontendUrl: this.origin,
					listenIp: '0.0.0.0',
					announcedIp: SERVER_IP,
					rtcMinPort: RTC_MIN_PORT,
					rtcMaxPort: RTC_MAX_PORT
				},
				env,
				spawn: (command, args, options) => this.sandbox.spawn(this.srv, command, args, options)
			})
		]);

		this.#server = server;
	}

	/** Which WebSocket listener the server runs, and why. */
	get listening(): string {
		return this.#server ? `${this.#server.url}: ${this.#server.listener} listener (${this.#server.listenerReason})` : 'not started';
	}

	/** Adds home network N (1..200): router rN with NAT, client cN behind it. */
	async addNetwork(index: number, options: NetworkOptions = {}): Promise<Network> {
		if (!Number.isInteger(index) || index < 1 || index > 200) throw new Error(`bad network index ${index}`);

		const { sandbox, srv } = this;
		const router = await sandbox.namespace(`r${index}`);
		const client = await sandbox.namespace(`c${index}`);
		const publicIp = `10.77.0.${10 + index}`;
		const clientIp = `192.168.${index}.2`;

		// Router <-> server LAN (the router's end on srv's bridge).
		await sandbox.veth(router, 'wan', srv, `r${index}`);
		await sandbox.ip(srv, 'link', 'set', 'dev', `r${index}`, 'master', 'br0');
		await sandbox.ip(router, 'addr', 'add', `${publicIp}/24`, 'dev', 'wan');
		// Router <-> client.
		await sandbox.veth(router, 'lan', client, 'eth0');
		await sandbox.ip(router, 'addr', 'add', `192.168.${index}.1/24`, 'dev', 'lan');
		await sandbox.ip(client, 'addr', 'add', `${clientIp}/24`, 'dev', 'eth0');
		await sandbox.ip(client, 'route', 'add', 'default', 'via', `192.168.${index}.1`);
		await sandbox.sysctl(router, 'net.ipv4.ip_forward', '1');

		// Upstream = packets coming in on `lan` (client -> server); downstream = in on `wan`.
		const rules: string[] = ['iifname "lan" counter name "up_fwd"', 'iifname "wan" counter name "down_fwd"'];

		if (options.dropUdp) rules.push('iifname "lan" meta l4proto udp counter name "up_udp_drop" drop', 'iifname "wan" meta l4proto udp counter name "down_udp_drop" drop');
		if (options.lossPct) {
			const pct = Math.round(options.lossPct);

			rules.push(`iifname "lan" numgen random mod 100 < ${pct} counter name "up_loss" drop`, `iifname "wan" numgen random mod 100 < ${pct} counter name "down_loss" drop`);
		}
		await sandbox.nft(
			router,
			[
				'table inet lab {',
				...['up_fwd', 'down_fwd', 'up_udp_drop', 'down_udp_drop', 'up_loss', 'down_loss'].map((name) => `\tcounter ${name} { }`),
				'\tchain forward {',
				'\t\ttype filter hook forward priority filter; policy accept;',
				...rules.map((rule) => `\t\t${rule}`),
				'\t}',
				'}',
				'table ip nat {',
				'\tcounter nat_new { }',
				'\tchain postrouting {',
				'\t\ttype nat hook postrouting priority srcnat; policy accept;',
				'\t\toifname "wan" counter name "nat_new" masquerade',
				'\t}',
				'}',
				''
			].join('\n')
		);

		if (options.rateKbit) {
			// Egress of `wan` caps the upload, egress of `lan` the download.
			for (const dev of ['wan', 'lan']) {
				await sandbox.tc(router, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${options.rateKbit}kbit`, 'burst', '16kb', 'latency', '100ms');
			}
		}

		const chromium = path.join(this.#tmp, `chromium-${index}.sh`);

		await writeFile(chromium, `#!/bin/sh\nexec ${IP} netns exec ${client} ${CHROMIUM_PATH} "$@"\n`);
		await chmod(chromium, 0o755);

		const network: Network = { index, router, client, publicIp, clientIp, chromium, options };

		this.networks.push(network);

		return network;
	}

	/** The router's nft counters (forwarded, dropped, masqueraded). */
	async counters(network: Network): Promise<Counters> {
		const ruleset = (await this.sandbox.nftRuleset(network.router)) as { nftables?: { counter?: { name: string; packets: number; bytes: number } }[] };
		const counters: Counters = {};

		for (const entry of ruleset.nftables ?? []) if (entry.counter) counters[entry.counter.name] = { packets: entry.counter.packets, bytes: entry.counter.bytes };

		return counters;
	}

	/** tc statistics of the router's two interfaces. */
	async qdiscs(network: Network): Promise<QdiscStats[]> {
		const { stdout } = await this.sandbox.tc(network.router, '-s', '-j', 'qdisc', 'show');
		const list = JSON.parse(stdout) as { kind: string; dev: string; bytes: number; packets: number; drops: number; overlimits: number }[];

		return list.filter((q) => q.kind === 'tbf').map((q) => ({ dev: q.dev, bytes: q.bytes, packets: q.packets, drops: q.drops, overlimits: q.overlimits }));
	}

	/** Registers something (a browser) to close before the namespaces go. */
	track<T extends Closable>(closable: T): T {
		this.#closables.push(closable);

		return closable;
	}

	get serverAlive(): boolean {
		return this.#server?.alive ?? false;
	}

	/** The last lines the servers printed (for failure reports). */
	output(n = 30): string {
		return [this.#server?.output(n).replace(/^/gm, '[server] '), this.#static?.tail(5, 'static')].filter(Boolean).join('\n');
	}

	async destroy(): Promise<void> {
		await Promise.all(this.#closables.splice(0).map((c) => c.close().catch(() => undefined)));
		await this.#server?.stop();
		await this.sandbox.destroy();
		await rm(this.#tmp, { recursive: true, force: true });
	}
}
