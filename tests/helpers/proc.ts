// The one reader of /proc for tests and benchmarks (Linux only): CPU time,
// resident memory and open file descriptors of processes, their children,
// how busy the whole machine is, and a description of the machine. Clock
// ticks and page size come from the system (getconf), read once.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function getconf(name: string): number {
	const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());

	if (!Number.isInteger(value) || value <= 0) throw new Error(`getconf ${name} gave ${value}`);

	return value;
}

let clockTicks: number | undefined;
let pageBytes: number | undefined;

/** Clock ticks per second of the times in /proc (getconf CLK_TCK). */
export function clkTck(): number {
	clockTicks ??= getconf('CLK_TCK');

	return clockTicks;
}

/** Bytes per memory page, the unit of /proc/<pid>/statm (getconf PAGESIZE). */
export function pageSize(): number {
	pageBytes ??= getconf('PAGESIZE');

	return pageBytes;
}

/** The fields of /proc/<pid>/stat after "(comm)" (comm may hold spaces): [0] is field 3, state. */
function statFields(pid: number): string[] {
	const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');

	return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of one process (all its threads), in seconds; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
	try {
		const fields = statFields(pid);

		// utime is field 14, stime 15.
		return (Number(fields[11]) + Number(fields[12])) / clkTck();
	} catch {
		return undefined;
	}
}

/** Resident memory of one process in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
	try {
		return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * pageSize();
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

/** Every live descendant of `root` (children, grandchildren...). */
export function descendants(root: number): number[] {
	const found: number[] = [];
	const queue = [root];

	while (queue.length) {
		for (const child of childPids(queue.shift() as number)) {
			found.push(child);
			queue.push(child);
		}
	}

	return found;
}

export function processName(pid: number): string {
	try {
		return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
	} catch {
		return '';
	}
}

/**
 * CPU seconds of the whole machine (all cores) from /proc/stat: busy =
 * user + nice + system + irq + softirq + steal (guest time is already in
 * user and nice), total = busy + idle + iowait.
 */
export function machineCpu(): { busy: number; total: number } {
	const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
	const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
	const busy = (user + nice + system + irq + softirq + steal) / clkTck();

	return { busy, total: busy + (idle + iowait) / clkTck() };
}

/** Busy share of the whole machine (all cores) between start and stop(), in percent. */
export function startMachineMeter(): { stop(): number } {
	const before = machineCpu();

	return {
		stop() {
			const after = machineCpu();

			return after.total > before.total ? (100 * (after.busy - before.busy)) / (after.total - before.total) : 0;
		}
	};
}

/** One line on how busy the machine was while a window was measured (figures taken on a busy machine say less). */
export function machineNote(busyPct: number, loadAverage = os.loadavg()[0] ?? 0): string {
	return `machine ${busyPct.toFixed(0)} % busy during the window (${os.availableParallelism()} CPUs, load average ${loadAverage.toFixed(2)})`;
}

/**
 * CPU of each named process between start and stop(), in percent of one
 * core; a process that exits meanwhile counts 0.
 */
export function startCpuMeter(pids: Record<string, number>): { stop(): Record<string, number> } {
	const started = process.hrtime.bigint();
	const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));

	return {
		stop() {
			const wall = Number(process.hrtime.bigint() - started) / 1e9;

			return Object.fromEntries(
				Object.entries(pids).map(([name, pid]) => {
					const start = before[name];
					const end = cpuSeconds(pid);

					return [name, start !== undefined && end !== undefined ? (100 * (end - start)) / wall : 0];
				})
			);
		}
	};
}

/** Total CPU (percent of one core) of a set of processes between start and stop(); processes that exit meanwhile count 0. */
export function startGroupCpuMeter(pids: number[]): { stop(): number } {
	const meter = startCpuMeter(Object.fromEntries(pids.map((pid) => [String(pid), pid])));

	return { stop: () => Object.values(meter.stop()).reduce((a, b) => a + b, 0) };
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
	let workersRss = 0;
	let workersFds = 0;

	for (const worker of workerPids) {
		const cpu = cpuSeconds(worker);

		if (cpu === undefined) continue;
		workerCpu.set(worker, cpu);
		workersRss += rssBytes(worker);
		workersFds += fdCount(worker);
	}

	return {
		at: Date.now(),
		nodeCpu: cpuSeconds(pid) ?? 0,
		workersCpu: [...workerCpu.values()].reduce((a, b) => a + b, 0),
		nodeRss: rssBytes(pid),
		workersRss,
		nodeFds: fdCount(pid),
		workersFds,
		workerCpu,
		machineBusy: machineCpu().busy
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
