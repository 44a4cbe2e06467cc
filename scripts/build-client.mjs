#!/usr/bin/env node
// Bundles the browser client (lib/client) with esbuild into dist/client:
// app.js (+ source map), index.html and style.css.
//
//   node scripts/build-client.mjs [--outdir DIR] [--minify] [--watch]
//
// protoo-client requires the `websocket` package (WebSocket-Node); in the
// browser it is replaced by lib/client/websocket-shim.ts, whose w3cwebsocket
// is the native WebSocket.

import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(root, 'lib/client');
const { values } = parseArgs({
	options: {
		outdir: { type: 'string', default: path.join(root, 'dist/client') },
		minify: { type: 'boolean', default: false },
		watch: { type: 'boolean', default: false }
	}
});
const outdir = path.resolve(values.outdir);

/** @type {import('esbuild').BuildOptions} */
const options = {
	entryPoints: [path.join(clientDir, 'main.ts')],
	outfile: path.join(outdir, 'app.js'),
	bundle: true,
	format: 'esm',
	platform: 'browser',
	target: ['chrome111', 'firefox115', 'safari16'],
	sourcemap: true,
	minify: values.minify,
	legalComments: 'none',
	logLevel: 'warning',
	alias: { websocket: path.join(clientDir, 'websocket-shim.ts') },
	define: { 'process.env.NODE_ENV': '"production"' }
};

async function copyStatic() {
	await mkdir(outdir, { recursive: true });
	for (const file of ['index.html', 'style.css']) await copyFile(path.join(clientDir, file), path.join(outdir, file));
}

await copyStatic();

if (values.watch) {
	const context = await esbuild.context(options);

	await context.watch();
	console.log(`watching lib/client, writing ${path.relative(root, outdir) || '.'}/`);
} else {
	const result = await esbuild.build({ ...options, metafile: true });
	const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);

	console.log(`client built into ${outdir.startsWith(root + path.sep) ? path.relative(root, outdir) : outdir}/ (${Math.round(bytes / 1024)} KiB)`);
}
