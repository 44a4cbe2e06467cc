// Property-based fuzzing of the protocol (tests/fuzz): at least 10,000
// generated and mutated frames against a real server over real sockets,
// interleaved with valid flows in two rooms. A failure prints the seed and
// fast-check's path; replay it with `npm run fuzz -- --seed S --path P --frames N`.

import test from 'ava';
import { runFuzz } from './fuzz/campaign.js';

const FRAMES = 10_000;

test.serial(`${FRAMES} fuzzed frames: every request answered with a documented code, nothing leaked, the bystander room undisturbed`, async (t) => {
	t.timeout(90_000);

	const seed = Number(process.env.VCALL_FUZZ_SEED ?? Date.now() % 2 ** 31);

	t.log(`seed ${seed} (replay: VCALL_FUZZ_SEED=${seed} npx ava dist/tests/fuzz.test.js, or npm run fuzz -- --seed ${seed} --frames ${FRAMES})`);

	const report = await runFuzz({ frames: FRAMES, seed, log: (line) => t.log(line) });

	t.log(`${report.frames} frames in ${report.seconds.toFixed(1)} s (${Math.round(report.frames / report.seconds)}/s); outcomes ${JSON.stringify(report.outcomes)}; ${report.validRequests} valid-flow requests, bystander heartbeat max ${report.bystanderHeartbeatMaxMs.toFixed(1)} ms`);
	t.true(report.frames >= FRAMES);
	t.true(report.seconds < 60, 'bounded to about a minute');
	t.true(report.validRequests > 0, 'the valid flows ran during the campaign');
	t.true((report.outcomes.ok ?? 0) > 0 && (report.outcomes['400'] ?? 0) > 0 && (report.outcomes.notification ?? 0) > 0, 'frames reached the rooms, the validation and the frame checks');
});
