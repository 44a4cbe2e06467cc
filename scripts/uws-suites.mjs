#!/usr/bin/env node
// Runs inside the Debian 13 root (scripts/test-uws.sh), with LISTENER=uws and
// the root's mediasoup-worker in place (scripts/trixie-run.sh): runs each suite with ava,
// then prints one line per suite saying which listener its tests ran on, and
// UwsListener.ts's line coverage, which must reach MIN_UWS_LINES.
// Arguments: suite files (default: SUITES, and only then is the minimum enforced).

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const SUITES = ['listener', 'signaling', 'bad-input', 'http', 'security-headers', 'lifecycle', 'observability', 'config'].map(
	(name) => `dist/tests/${name}.test.js`
);
const MIN_UWS_LINES = 80;
const UWS_SOURCE = path.resolve('lib/listener/UwsListener.ts');
const COVERAGE_TMP = path.resolve('coverage/uws-tmp');
const COVERAGE_REPORTS = path.resolve('coverage/uws');

if (process.env.LISTENER !== 'uws') throw new Error('uws-suites.mjs expects LISTENER=uws (run scripts/test-uws.sh)');

const glibc = process.report.getReport().header.glibcVersionRuntime;

console.log(`=== uWebSockets.js suites: Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}, glibc ${glibc}, Node ${process.version} ===`);

rmSync(COVERAGE_TMP, { recursive: true, force: true });

const suites = process.argv.length > 2 ? process.argv.slice(2) : SUITES;
const results = [];

for (const suite of suites) results.push(await runSuite(suite));

run(process.execPath, [
	'node_modules/c8/bin/c8.js', 'report',
	'--temp-directory', COVERAGE_TMP, '--reports-dir', COVERAGE_REPORTS,
	'--reporter', 'json-summary', '--reporter', 'text-summary'
]);

const summary = JSON.parse(readFileSync(path.join(COVERAGE_REPORTS, 'coverage-summary.json'), 'utf8'));
const uwsLines = summary[UWS_SOURCE]?.lines.pct ?? 0;
let ok = true;

console.log('\n=== summary: listener per suite (Debian 13 root, LISTENER=uws) ===');

for (const r of results) {
	const titled = Object.entries(r.byListener).map(([kind, n]) => `${n} titled ${kind}`).join(', ') || 'none titled with a listener';

	console.log(`uws  ${r.suite.padEnd(34)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${titled}; the rest run the server's default, uws here)`);

	// A test naming the node listener, or none run at all, means uWS was not what ran.
	if (r.exitCode !== 0 || r.failed > 0 || r.passed === 0 || r.byListener.node) ok = false;
}

// The minimum holds for the whole set; a run of chosen suites only prints the figure.
const gated = process.argv.length <= 2;

console.log(`UwsListener.ts line coverage: ${uwsLines} %${gated ? ` (at least ${MIN_UWS_LINES} % required)` : ''}`);
if (gated && uwsLines < MIN_UWS_LINES) ok = false;

process.exit(ok ? 0 : 1);

function run(command, args) {
	const result = spawnSync(command, args, { stdio: 'inherit' });

	if (result.status !== 0) {
		console.error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
		process.exit(1);
	}
}

/** Runs one suite with ava's TAP reporter, echoing it, and counts its results by listener. */
async function runSuite(suite) {
	console.log(`\n--- ${suite} (listener: uws) ---`);

	const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', '--tap', suite], {
		env: { ...process.env, NODE_V8_COVERAGE: COVERAGE_TMP },
		stdio: ['ignore', 'pipe', 'inherit']
	});
	const result = { suite, passed: 0, failed: 0, skipped: 0, byListener: {}, exitCode: 0 };

	for await (const line of createInterface({ input: child.stdout })) {
		console.log(line);

		const match = /^(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);

		if (!match) continue;

		const [, failed, title, directive] = match;

		if (directive) {
			result.skipped++;
			continue;
		}

		if (failed) result.failed++;
		else result.passed++;

		// Titles say "[uws] ..." or "uws: ...".
		const kind = /(?:^|\s|›\s*)\[?(uws|node)(?:\]|:)/.exec(title)?.[1];

		if (kind) result.byListener[kind] = (result.byListener[kind] ?? 0) + 1;
	}

	result.exitCode = await new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));

	return result;
}
