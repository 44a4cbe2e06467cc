// Network namespaces as throwaway "hosts" for tests (Linux, root): create
// them, wire them with veth pairs, run commands and long-lived processes in
// them, and remove all of it afterwards.
//
// Every namespace a test process creates is named `vc<pid>-<tag>-<name>`, so
// that leftovers of a crashed run (whose pid is gone) can be found and
// removed by the next run, without touching a run that is still going.
// Interfaces are created directly inside the namespaces (`ip -n`), never in
// the host's namespace, so nothing outside the sandbox changes and
// concurrent runs cannot collide on interface names or addresses.

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { processAlive, stopChild } from './process.js';

const execFileAsync = promisify(execFile);

export const NETNS_PREFIX = 'vc';
const OURS = /^vc(\d+)-/;

/**
 * A system tool, looked up in the system directories only: under `npm test`
 * or `npx`, PATH starts with node_modules/.bin, where `nft` is
 * @vercel/nft (Node File Trace), not nftables.
 */
function which(command: string): string | undefined {
	for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
		const candidate = `${dir}/${command}`;

		if (existsSync(candidate)) return candidate;
	}

	return undefined;
}

export const IP = which('ip') ?? '/usr/sbin/ip';
export const NFT = which('nft') ?? '/usr/sbin/nft';
export const TC = which('tc') ?? '/usr/sbin/tc';
export const SYSCTL = which('sysctl') ?? '/usr/sbin/sysctl';
const SETPRIV = which('setpriv');

let probed: string | null | undefined;

/**
 * Why namespaces cannot be used here (not root, no `ip`/`nft`/`tc`,
 * `ip netns add` refused, nftables refused inside a namespace), or
 * undefined. Synchronous, so that a test file can decide at load time; the
 * probe runs once per process.
 */
export function netnsUnavailable(): string | undefined {
	if (probed !== undefined) return probed ?? undefined;

	probed = probe() ?? null;

	return probed ?? undefined;
}

function probe(): string | undefined {
	if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
	if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root)';
	if (!which('ip')) return 'no `ip` command (apt-get install -y iproute2)';
	if (!which('nft')) return 'no `nft` command (apt-get install -y nftables)';
	if (!which('tc')) return 'no `tc` command (apt-get install -y iproute2)';

	const name = `${NETNS_PREFIX}${process.pid}-probe`;
	const run = (args: string[], input?: string): void => {
		execFileSync(args[0] as string, args.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000, ...(input ? { input } : {}) });
	};

	try {
		run([IP, 'netns', 'add', name]);
	} catch (error) {
		return `\`ip netns add\` fails here: ${firstLine(error)}`;
	}
	try {
		run([IP, '-n', name, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
		run([IP, 'netns', 'exec', name, NFT, '-f', '-'], 'table inet probe {\n\tchain c {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tnumgen random mod 100 < 3 drop\n\t}\n}\n');
		run([IP, 'netns', 'exec', name, TC, 'qdisc', 'add', 'dev', 'p0', 'root', 'tbf', 'rate', '1mbit', 'burst', '16kb', 'latency', '100ms']);
	} catch (error) {
		return `namespaces are created, but veth/nftables/tbf inside them fail: ${firstLine(error)}`;
	} finally {
		try {
			run([IP, 'netns', 'del', name]);
		} catch {
			// Nothing more to do.
		}
	}

	return undefined;
}

function firstLine(error: unknown): string {
	const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();

	return (stderr || (error instanceof Error ? error.message : String(error))).split('\n')[0] ?? '';
}

export async function listNamespaces(): Promise<string[]> {
	const { stdout } = await execFileAsync(IP, ['netns', 'list']);

	// Lines look like "name" or "name (id: 3)".
	return stdout
		.split('\n')
		.map((line) => line.trim().split(/\s+/)[0] ?? '')
		.filter(Boolean);
}

/** Pids of the processes living in a namespace. */
export async function namespacePids(ns: string): Promise<number[]> {
	try {
		const { stdout } = await execFileAsync(IP, ['netns', 'pids', ns]);

		return stdout.split(/\s+/).filter(Boolean).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
	} catch {
		return [];
	}
}

/** Kills the processes left in a namespace (SIGTERM, then SIGKILL after graceMs) and deletes it. */
async function removeNamespace(ns: string, graceMs = 3000): Promise<void> {
	let pids = await namespacePids(ns);

	for (const pid of pids) killQuietly(pid, 'SIGTERM');

	const deadline = Date.now() + graceMs;

	while (pids.length && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 100));
		pids = pids.filter(processAlive);
	}
	for (const pid of pids) killQuietly(pid, 'SIGKILL');
	await execFileAsync(IP, ['netns', 'del', ns]).catch(() => undefined);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(pid, signal);
	} catch {
		// Already gone.
	}
}

/**
 * Removes the namespaces (and the processes still in them) of earlier test
 * runs whose process is gone: names `vc<pid>-...` with no live <pid>.
 * Returns the names removed.
 */
export async function removeLeftovers(): Promise<string[]> {
	const stale = (await listNamespaces()).filter((ns) => {
		const pid = Number(OURS.exec(ns)?.[1]);

		return Number.isInteger(pid) && pid !== process.pid && !processAlive(pid);
	});

	await Promise.all(stale.map((ns) => removeNamespace(ns, 1000)));

	return stale;
}

export interface RunResult {
	stdout: string;
	stderr: string;
}

/**
 * One test's set of namespaces. Names are `vc<pid>-<tag>-<short>`; destroy()
 * stops the processes it spawned, kills whatever else still runs in its
 * namespaces, and deletes them. Safe to call more than once.
 */
export class Sandbox {
	readonly prefix: string;
	readonly namespaces: string[] = [];
	readonly #children = new Set<ChildProcess>();
	#destroyed = false;

	constructor(tag: string) {
		if (!/^[a-z0-9]{1,12}$/i.test(tag)) throw new Error(`bad sandbox tag ${tag}`);
		this.prefix = `${NETNS_PREFIX}${process.pid}-${tag}-`;
	}

	/** Creates a namespace with its loopback up; returns its full name. */
	async namespace(short: string): Promise<string> {
		if (this.#destroyed) throw new Error('sandbox destroyed');

		const ns = this.prefix + short;

		// A leftover with this very name (same pid, earlier crash in this process) goes first.
		if ((await listNamespaces()).includes(ns)) await removeNamespace(ns);
		await execFileAsync(IP, ['netns', 'add', ns]);
		this.namespaces.push(ns);
		await this.ip(ns, 'link', 'set', 'dev', 'lo', 'up');

		return ns;
	}

	/** `ip -n <ns> <args>`. */
	async ip(ns: string, ...args: string[]): Promise<RunResult> {
		return this.#exec(IP, ['-n', ns, ...args]);
	}

	/** Runs a command inside the namespace and returns its output (throws on failure, with stderr). */
	async run(ns: string, command: string, args: string[] = [], input?: string): Promise<RunResult> {
		return this.#exec(IP, ['netns', 'exec', ns, command, ...args], input);
	}

	/** Loads an nftables script into the namespace (`nft -f -`). */
	async nft(ns: string, script: string): Promise<void> {
		await this.run(ns, NFT, ['-f', '-'], script);
	}

	/** `nft -j list ruleset` of the namespace, parsed. */
	async nftRuleset(ns: string): Promise<unknown> {
		const { stdout } = await this.run(ns, NFT, ['-j', 'list', 'ruleset']);

		return JSON.parse(stdout) as unknown;
	}

	async sysctl(ns: string, key: string, value: string): Promise<void> {
		await this.run(ns, SYSCTL, ['-q', '-w', `${key}=${value}`]);
	}

	/** `tc <args>` inside the namespace. */
	async tc(ns: string, ...args: string[]): Promise<RunResult> {
		return this.run(ns, TC, args);
	}

	/**
	 * A veth pair from namespace a (interface aName) to namespace b (bName),
	 * both ends up. Created inside `a`, so the host's namespace never sees it.
	 */
	async veth(a: string, aName: string, b: string, bName: string): Promise<void> {
		await this.ip(a, 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b);
		await this.ip(a, 'link', 'set', 'dev', aName, 'up');
		await this.ip(b, 'link', 'set', 'dev', bName, 'up');
	}

	/**
	 * Spawns a long-lived process inside the namespace. It is killed by
	 * destroy(), and (through setpriv --pdeathsig, where available) when the
	 * test process itself dies.
	 */
	spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
		if (this.#destroyed) throw new Error('sandbox destroyed');

		const inner = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', command, ...args] : [command, ...args];
		// A test runner's IPC channel (ava's workers have one) must not leak into
		// the child: a Node child that inherits NODE_CHANNEL_FD without that fd
		// treats whatever fd 3 becomes as its channel.
		const env = { ...(options.env ?? process.env) };

		delete env.NODE_CHANNEL_FD;
		delete env.NODE_CHANNEL_SERIALIZATION_MODE;

		// `ip netns exec` execs the command: the child's pid is the command's.
		const child = spawn(IP, ['netns', 'exec', ns, ...inner], { stdio: ['ignore', 'pipe', 'pipe'], ...options, env });

		this.#children.add(child);
		child.once('exit', () => this.#children.delete(child));

		return child;
	}

	/** Stops the spawned processes, kills any other process left in the namespaces, deletes them. */
	async destroy(): Promise<void> {
		if (this.#destroyed) return;
		this.#destroyed = true;
		await Promise.all([...this.#children].map((child) => stopChild(child)));
		await Promise.all(this.namespaces.map((ns) => removeNamespace(ns)));
		this.namespaces.length = 0;
	}

	async #exec(command: string, args: string[], input?: string): Promise<RunResult> {
		return new Promise((resolve, reject) => {
			const child = execFile(command, args, { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
				if (error) reject(new Error(`${[command, ...args].join(' ')}: ${stderr.trim() || error.message}`));
				else resolve({ stdout, stderr });
			});

			if (input !== undefined) child.stdin?.end(input);
		});
	}
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
