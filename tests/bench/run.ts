// Benchmark runner: `node dist/tests/bench/run.js [--only join,throughput,scaling,soak,media,cluster,abuse]
// [--quick] [--soak-seconds N] [--out DIR] [--no-protoo]`.
// Each benchmark starts its own server process(es); this process is the load
// generator. Prints plain-text tables and writes tests/bench/results/.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { uwsLoadError } from '../../lib/listener/index.js';
import { runAbuse } from './bench-abuse.js';
import { runCluster } from './bench-cluster.js';
import { runJoin } from './bench-join.js';
import { runMedia } from './bench-media.js';
import { runScaling } from './bench-scaling.js';
import { runSoak } from './bench-soak.js';
import { runThroughput } from './bench-throughput.js';
import { machineCpu, machineInfo } from '../helpers/proc.js';
import { loadResults, sectionText, writeResults, type Results } from './lib/report.js';
import type { BenchContext, Section } from './lib/section.js';
import type { StackSpec } from './lib/bench-server.js';

/** Repository root (this file runs from dist/tests/bench/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<Section>> = {
	join: runJoin,
	throughput: runThroughput,
	scaling: runScaling,
	soak: runSoak,
	media: runMedia,
	cluster: runCluster,
	abuse: runAbuse
};
/** A whole run may not take longer than this (the soak excluded). */
const RUN_LIMIT_MS = 3 * 60 * 60 * 1000;

const { values } = parseArgs({
	options: {
		only: { type: 'string' },
		quick: { type: 'boolean', default: false },
		'soak-seconds': { type: 'string' },
		out: { type: 'string' },
		'no-protoo': { type: 'boolean', default: false },
		scheme: { type: 'string', default: 'ws,wss' },
		flow: { type: 'string', default: 'short,original' },
		profile: { type: 'boolean', default: false },
		set: { type: 'string', multiple: true },
		'wait-quiet': { type: 'string' },
		render: { type: 'boolean', default: false },
		help: { type: 'boolean', default: false }
	}
});

if (values.help) {
	console.log(
		[
			'usage: node dist/tests/bench/run.js [options]',
			`  --only LIST         comma-separated subset of ${Object.keys(BENCHMARKS).join(',')} (default: all)`,
			'  --quick             fewer samples, scaling up to 50 rooms, 60 s soak; writes tests/bench/results/quick/',
			'  --soak-seconds N    soak duration (default 600, quick 60)',
			'  --out DIR           output directory (default tests/bench/results, or tests/bench/results/quick with --quick)',
			'  --no-protoo         skip the protoo-server comparison stack',
			'  --scheme LIST       join: ws, wss or ws,wss (default; a dev certificate from certs/make-dev-cert.sh)',
			'  --flow LIST         join: short (capabilities once, consumeMany, no audio resume), original (the first client\'s flow) or both (default)',
			'  --profile           join: the servers run with node --cpu-prof; prints self time grouped by package (profiles in OUT/profile/)',
			'  --render            run nothing: rewrite results.txt, the plots and README-bench.md from results.json (e.g. after editing tests/bench/results/analysis.md)',
			'  --wait-quiet S      before each benchmark wait up to S seconds for other processes to leave the CPUs idle (default 180, quick 60)',
			'  --set NAME=VALUE    override a tuning knob, e.g. joinBackground=10, joinSamples=20, scalingLevels=1:10, soakLanes=4 (for trying things out)'
		].join('\n')
	);
	process.exit(0);
}

const quick = values.quick;
const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(BENCHMARKS);
const unknown = only.filter((name) => !BENCHMARKS[name]);

if (unknown.length) {
	console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
	process.exit(2);
}

/** A comma-separated list of allowed words. */
function listOption<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
	const items = value.split(',').map((s) => s.trim()).filter(Boolean);

	if (!items.length || items.some((item) => !allowed.includes(item as T))) {
		console.error(`--${name} takes a comma-separated list of ${allowed.join(', ')}`);
		process.exit(2);
	}

	return items as T[];
}

const schemes = listOption('scheme', values.scheme, ['ws', 'wss'] as const);
const joinFlows = listOption('flow', values.flow, ['short', 'original'] as const);
const soakSeconds = Number(values['soak-seconds'] ?? (quick ? 60 : 600));

if (!Number.isFinite(soakSeconds) || soakSeconds < 10 || soakSeconds > 24 * 3600) {
	console.error('--soak-seconds must be between 10 and 86400');
	process.exit(2);
}

const outDir = path.resolve(values.out ?? path.join(ROOT, 'tests', 'bench', 'results', quick ? 'quick' : ''));
const analysisFile = path.join(ROOT, 'tests', 'bench', 'results', 'analysis.md');

if (values.render) {
	const existing = loadResults(path.join(outDir, 'results.json'));

	if (!existing) {
		console.error(`no results.json in ${outDir}`);
		process.exit(2);
	}

	const { files } = writeResults(outDir, existing, analysisFile);

	console.log(`rewrote ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
	process.exit(0);
}
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);

// Our listeners that load here, then the comparison stack.
const uwsError = await uwsLoadError();
const stacks: StackSpec[] = [];
const skippedStacks: string[] = [];

if (uwsError === undefined) stacks.push({ label: 'vcall (uws)', stack: 'vcall', listener: 'uws' });
else skippedStacks.push(`uws skipped: ${uwsError}`);
stacks.push({ label: 'vcall (node)', stack: 'vcall', listener: 'node' });
if (!values['no-protoo']) stacks.push({ label: 'protoo-server', stack: 'protoo', listener: 'node' });

const machine = machineInfo(ROOT);
const command = `node dist/tests/bench/run.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`;

log(`vcall benchmarks: ${only.join(', ')}${quick ? ' (quick)' : ''}; stacks: ${stacks.map((s) => s.label).join(', ')}`);
for (const line of skippedStacks) log(line);
log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, ${machine.os}, kernel ${machine.kernel}, Node ${machine.node}`);

/** --set NAME=NUMBER or NAME=N1:N2:... (a list). */
const params = new Map<string, number[]>();

for (const item of values.set ?? []) {
	const [name, value] = item.split('=');
	const numbers = (value ?? '').split(':').map(Number);

	if (!name || !value || numbers.some((n) => !Number.isFinite(n))) {
		console.error(`--set expects NAME=NUMBER or NAME=N1:N2:..., got ${item}`);
		process.exit(2);
	}
	params.set(name, numbers);
}

const waitQuietSeconds = Number(values['wait-quiet'] ?? (quick ? 60 : 180));
const ctx: BenchContext = {
	quick,
	stacks,
	soakSeconds,
	schemes,
	joinFlows,
	profileDir: values.profile ? path.join(outDir, 'profile') : undefined,
	log,
	param: (name, fallback) => params.get(name)?.[0] ?? fallback,
	list: (name, fallback) => params.get(name) ?? fallback
};
const resultsFile = path.join(outDir, 'results.json');
const previous = loadResults(resultsFile);
const results: Results = {
	machine,
	command,
	quick,
	listeners: { ran: stacks.map((s) => s.label), skipped: skippedStacks },
	// Sections not rerun now are kept from the previous run in this directory.
	sections: previous && previous.quick === quick ? previous.sections : {}
};
const watchdog = setTimeout(() => {
	console.error(`benchmark run exceeded ${RUN_LIMIT_MS / 60000} min (+ soak); giving up`);
	process.exit(1);
}, RUN_LIMIT_MS + soakSeconds * 1000);

watchdog.unref();

let failed = false;

/**
 * Other processes (builds, test runs) take CPU from the server and the
 * generator on a 2-core machine: wait (bounded) until they are quiet, and
 * report how busy the machine was when the benchmark started.
 */
async function waitQuiet(maxSeconds: number): Promise<number> {
	const deadline = Date.now() + maxSeconds * 1000;
	let busyPercent = 0;

	for (;;) {
		const before = machineCpu().busy;
		const t0 = performance.now();

		await new Promise((resolve) => setTimeout(resolve, 3000));
		busyPercent = ((machineCpu().busy - before) / ((performance.now() - t0) / 1000)) * 100;
		if (busyPercent < 15 || Date.now() >= deadline) return busyPercent;
		log(`machine busy (${busyPercent.toFixed(0)} % of a core used by other processes); waiting for it to be quiet`);
	}
}

for (const name of only) {
	log(`--- ${name} ---`);

	const busy = await waitQuiet(waitQuietSeconds);

	if (busy >= 15) log(`WARNING: other processes still use ${busy.toFixed(0)} % of a core; results of ${name} will be disturbed`);

	try {
		const section = await BENCHMARKS[name]!(ctx);

		section.busyBeforePercent = busy;
		section.command = command;

		results.sections[name] = section;
		console.log(`\n${sectionText(section)}\n`);
		writeResults(outDir, results, analysisFile);
	} catch (error) {
		failed = true;
		log(`${name} FAILED: ${(error as Error)?.stack ?? String(error)}`);
	}
}

const { files } = writeResults(outDir, results, analysisFile);

log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min; wrote ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
process.exit(failed ? 1 : 0);
