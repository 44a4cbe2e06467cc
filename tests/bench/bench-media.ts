// Benchmark 5 (hook): media forwarding with real browsers. Runs only where
// headless Chromium and the browser E2E client and harness exist
// (tests/e2e/helpers/harness.ts, lib/client); otherwise it is skipped with
// the reason. Loaded lazily so the other benchmarks never depend on the E2E
// code being finished.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Section } from './lib/section.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Compiled harness of the E2E tests (dist/tests/e2e/helpers/harness.js). */
const HARNESS = path.resolve(HERE, '../e2e/helpers/harness.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** mediasoup-worker segfault lines of the kernel log (dmesg needs root; empty otherwise). */
function workerCrashes(): string[] {
	try {
		return execFileSync('dmesg', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
			.split('\n')
			.filter((line) => /mediasoup-worke.*segfault/.test(line));
	} catch {
		return [];
	}
}

/** Why the browser benchmark cannot run here, or undefined. */
export function mediaBenchUnavailable(): string | undefined {
	if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
	if (!fs.existsSync(HARNESS)) return `the browser E2E harness is not built (${path.relative(process.cwd(), HARNESS)})`;

	return undefined;
}

export async function runMedia(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const unavailable = mediaBenchUnavailable();
	const skipped = (reason: string): Section => ({
		name: 'media',
		title: 'Media forwarding with real browsers',
		date: new Date().toISOString(),
		seconds: (performance.now() - started) / 1000,
		tables: [],
		goals: [],
		plots: [],
		data: { skipped: reason },
		skipped: reason
	});

	if (unavailable) return skipped(unavailable);

	const { runBrowserMedia } = (await import('./media-browsers.js')) as typeof import('./media-browsers.js');
	const crashesBefore = workerCrashes();

	try {
		return await runBrowserMedia(ctx, HARNESS);
	} catch (error) {
		ctx.log(`media: failed: ${String(error)}`);

		const crashes = workerCrashes().slice(crashesBefore.length);
		const hint = crashes.length ? `; the kernel log shows ${crashes.length} mediasoup-worker crash(es) meanwhile: ${crashes.at(-1)!.replace(/^\[[^\]]*\]\s*/, '').slice(0, 140)}` : '';

		return skipped(`the browser run failed: ${String((error as Error)?.message ?? error).split('\n')[0]}${hint}`);
	}
}
