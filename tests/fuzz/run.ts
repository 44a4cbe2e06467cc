// npm run fuzz [-- --frames 1000000] [--seed S] [--path P] [--sockets N]:
// the fuzzing campaign of tests/fuzz.test.ts, longer (default 1,000,000
// frames). Prints progress and the outcomes; exits 1 with the seed and
// fast-check's path (replay them with --seed and --path) when a property fails.

import { parseArgs } from 'node:util';
import { runFuzz } from './campaign.js';

const { values } = parseArgs({
	options: {
		frames: { type: 'string', default: '1000000' },
		seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
		path: { type: 'string' },
		sockets: { type: 'string', default: '6' }
	}
});
const seed = Number(values.seed);

console.log(`fuzz: ${values.frames} frames, seed ${seed}${values.path ? `, path ${values.path}` : ''}`);
try {
	const report = await runFuzz({ frames: Number(values.frames), seed, sockets: Number(values.sockets), ...(values.path ? { path: values.path } : {}), log: (line) => console.log(`fuzz: ${line}`) });

	console.log(`fuzz: ${report.frames} frames in ${report.seconds.toFixed(1)} s (${Math.round(report.frames / report.seconds)}/s), seed ${seed}`);
	console.log(`fuzz: outcomes ${JSON.stringify(report.outcomes)}`);
	console.log(`fuzz: ${report.validRequests} valid-flow requests all answered ok; bystander heartbeat max ${report.bystanderHeartbeatMaxMs.toFixed(1)} ms; nothing left beyond the valid flows`);
	process.exit(0);
} catch (error) {
	console.error(`fuzz: FAILED (seed ${seed}): ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
}
