// Benchmark 5 (hook): media forwarding with real browsers. Runs only where
// headless Chromium and the mediasoup worker are there (as the browser
// suites); otherwise it is skipped with the reason. The browser part is
// loaded lazily so the other benchmarks never load playwright.

import { execFileSync } from 'node:child_process';
import { missingPrerequisite } from '../helpers/chromium.js';
import { finishSection, type BenchContext, type Section } from './lib/section.js';

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

export async function runMedia(ctx: BenchContext): Promise<Section> {
	const started = performance.now();
	const unavailable = missingPrerequisite();
	const skipped = (reason: string): Section => finishSection(started, {
		name: 'media',
		title: 'Media forwarding with real browsers',
		tables: [],
		data: { skipped: reason },
		skipped: reason
	});

	if (unavailable) return skipped(unavailable);

	const { runBrowserMedia } = (await import('./media-browsers.js')) as typeof import('./media-browsers.js');
	const crashesBefore = workerCrashes();

	try {
		return await runBrowserMedia(ctx);
	} catch (error) {
		ctx.log(`media: failed: ${String(error)}`);

		const crashes = workerCrashes().slice(crashesBefore.length);
		const hint = crashes.length ? `; the kernel log shows ${crashes.length} mediasoup-worker crash(es) meanwhile: ${crashes.at(-1)!.replace(/^\[[^\]]*\]\s*/, '').slice(0, 140)}` : '';

		return skipped(`the browser run failed: ${String((error as Error)?.message ?? error).split('\n')[0]}${hint}`);
	}
}
