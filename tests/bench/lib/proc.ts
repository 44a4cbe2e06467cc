// Reads CPU time, resident memory, open file descriptors and child processes
// from /proc (Linux only), and describes the machine for the results.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK, almost always 100). */
export function clkTck(): number {
	if (clockTicks === undefined) {
		try {
			clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
		} catch {
			clockTicks = 100;
		}
	}

	return clockTicks;
}

/** utime + stime of one process (all its threads), in seconds; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		// Fields after "(comm)": state is field 3, utime 14, stime 15.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');

		return (Number(fields[11]) + Number(fields[12])) / clkTck();
	} catch {
		return 0;
	}
}

/** VmRSS of one process in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);

		return match ? Number(match[1]) * 1024 : 0;
	} catch {
		return 0;
	}
}

/** Open file descriptors of one process; 0 when it is gone. */
export function fdCount(pid: number): number {
	try {
		return fs.readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return 0;
	}
}

/** Direct children of a process (e.g. the mediasoup-worker processes of the server). */
export function childPids(pid: number): number[] {
	const pids: number[] = [];

	try {
		for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
			try {
				const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();

				if (text) pids.push(...text.split(/\s+/).map(Number));
			} catch {
				// thread ended meanwhile
			}
		}
	} catch {
		// process gone
	}

	return [...new Set(pids)];
}

export function processName(pid: number): string {
	try {
		return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
	} catch {
		return '';
	}
}

/** One reading of the server: its Node process and its mediasoup-worker children. */
export interface ServerSample {
	/** ms since the epoch */
	at: number;
	nodeCpu: number;
	workersCpu: number;
	nodeRss: number;
	workersRss: number;
	nodeFds: number;
	workersFds: number;
	/** CPU seconds of each mediasoup-worker child, by pid. */
	workerCpu: Map<number, number>;
	/** Busy CPU seconds of the whole machine (all processes). */
	machineBusy: number;
}

export function sampleServer(pid: number): ServerSample {
	const workerPids = childPids(pid).filter((child) => processName(child).startsWith('mediasoup-work'));
	const workerCpu = new Map<number, number>();
	let workersCpu = 0;
	let workersRss = 0;
	let workersFds = 0;

	for (const worker of workerPids) {
		workerCpu.set(worker, cpuSeconds(worker));
		workersCpu += workerCpu.get(worker)!;
		workersRss += rssBytes(worker);
		workersFds += fdCount(worker);
	}

	return {
		at: Date.now(),
		nodeCpu: cpuSeconds(pid),
		workersCpu,
		nodeRss: rssBytes(pid),
		workersRss,
		nodeFds: fdCount(pid),
		workersFds,
		workerCpu,
		machineBusy: machineBusySeconds()
	};
}

/**
 * CPU seconds used between two samples. Worker CPU is taken per pid, over the
 * workers present in both (a worker replaced in between is left out).
 */
export function cpuBetween(a: ServerSample, b: ServerSample): { node: number; workers: number; total: number; machine: number } {
	const node = b.nodeCpu - a.nodeCpu;
	let workers = 0;

	// Only workers alive at both samples: a replaced one's whole CPU would otherwise count negative.
	for (const [pid, cpu] of b.workerCpu) {
		const before = a.workerCpu.get(pid);

		if (before !== undefined) workers += cpu - before;
	}

	return { node, workers, total: node + workers, machine: b.machineBusy - a.machineBusy };
}

/**
 * Busy CPU seconds of the whole machine (all cores) from /proc/stat: with the
 * server's and the generator's own CPU it tells how much other processes
 * (builds, other test runs) took during a measurement.
 */
export function machineBusySeconds(): number {
	try {
		const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
		// cpu user nice system idle iowait irq softirq steal ...
		const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);

		return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clkTck();
	} catch {
		return 0;
	}
}

/** CPU seconds of this process (the load generator), user + system. */
export function selfCpuSeconds(): number {
	const usage = process.cpuUsage();

	return (usage.user + usage.system) / 1e6;
}

export interface MachineInfo {
	date: string;
	cpuModel: string;
	cores: number;
	ramGiB: number;
	kernel: string;
	node: string;
	os: string;
	debianVersion: string;
	glibc: string;
	git: string;
}

function readOr(path: string, fallback = ''): string {
	try {
		return fs.readFileSync(path, 'utf8');
	} catch {
		return fallback;
	}
}

export function machineInfo(repoDir: string): MachineInfo {
	const cpuinfo = readOr('/proc/cpuinfo');
	const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
	const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readOr('/proc/meminfo'))?.[1] ?? 0);
	const osRelease = readOr('/etc/os-release');
	const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? `${os.type()} ${os.release()}`;
	let git = 'unknown';

	try {
		const head = execFileSync('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
		const dirty = execFileSync('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();

		git = dirty ? `${head} + uncommitted changes` : head;
	} catch {
		// not a git checkout
	}

	const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;

	return {
		date: new Date().toISOString(),
		cpuModel,
		cores: os.availableParallelism(),
		ramGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
		kernel: os.release(),
		node: process.version,
		os: pretty,
		debianVersion: readOr('/etc/debian_version', 'n/a').trim(),
		glibc: report?.header?.glibcVersionRuntime ?? 'unknown',
		git
	};
}
