// What every benchmark returns to the runner, and what the runner gives it.

import type { ConsumeFlow, Scheme } from '../bench-join.js';
import type { StackSpec } from './bench-server.js';
import type { Table } from './table.js';

export interface Goal {
	/** e.g. 'join p99, 7th peer, 50 rooms live' */
	goal: string;
	target: string;
	measured: string;
	/** undefined: could not be evaluated (skipped). */
	met: boolean | undefined;
	/** Why missed (or a caveat), one sentence. */
	note?: string;
	/** The measurement itself is not valid (e.g. the generator could not keep its schedule). */
	invalid?: boolean;
}

export interface Plot {
	/** File name inside the output directory. */
	file: string;
	title: string;
	svg: string;
}

export interface Section {
	name: string;
	title: string;
	date: string;
	/** Wall time the benchmark took, seconds. */
	seconds: number;
	tables: Table[];
	goals: Goal[];
	plots: Plot[];
	/** Raw figures for results.json. */
	data: unknown;
	/** Set when the benchmark did not run. */
	skipped?: string;
	/** % of a core other processes used just before the benchmark started. */
	busyBeforePercent?: number;
	/** The command line of the run that produced this section. */
	command?: string;
}

/** A benchmark's section, dated now and timed from `started` (a performance.now() reading). */
export function finishSection(started: number, section: Omit<Section, 'date' | 'seconds' | 'plots' | 'goals'> & Partial<Pick<Section, 'plots' | 'goals'>>): Section {
	return { date: new Date().toISOString(), seconds: (performance.now() - started) / 1000, plots: [], goals: [], ...section };
}

export interface BenchContext {
	quick: boolean;
	/** Our listeners that load here, then protoo-server. */
	stacks: StackSpec[];
	soakSeconds: number;
	/** The join benchmark's WebSocket schemes and consume flows (all combinations run, alternating). */
	schemes: Scheme[];
	joinFlows: ConsumeFlow[];
	/** --profile: where the servers write their CPU profiles (the join benchmark groups them). */
	profileDir: string | undefined;
	log: (line: string) => void;
	/** A tuning knob from --set name=value (for trying things out), or the default. */
	param: (name: string, fallback: number) => number;
	list: (name: string, fallback: number[]) => number[];
}

export function ratio(a: number, b: number): number {
	return b === 0 ? Number.NaN : a / b;
}

export function fmtRatio(value: number): string {
	return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}
