#!/usr/bin/env node
// Prints the README's configuration table from lib/config/options.ts (run after `npm run build`).
import { flagName } from '../dist/lib/config/load.js';
import { OPTIONS } from '../dist/lib/config/options.js';

console.log('| Variable | Flag | Default | Description |');
console.log('|---|---|---|---|');
for (const o of OPTIONS) {
	const flag = `--${flagName(o)}`;
	const def = o.key === 'numWorkers' ? 'CPUs, at most 4' : o.default === undefined ? '-' : `\`${o.default}\``;

	console.log(`| \`${o.env}\` | \`${flag}\` | ${def} | ${o.description}${o.choices ? ` (${o.choices.join(', ')})` : ''} |`);
}
