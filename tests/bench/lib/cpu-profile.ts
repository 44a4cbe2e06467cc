// Reads the .cpuprofile files `node --cpu-prof` writes and groups self time
// by where it was spent (a package, mediasoup's parts, our code, GC), the
// breakdown issue 14 started from. Native frames (structuredClone, JSON.parse,
// a socket's writev) and Node's own JavaScript (streams, net) count for the
// nearest caller outside Node: the time utils.clone spends in structuredClone
// is utils.clone's, a pipe write of mediasoup's channel is channel I/O.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string };
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

/** Categories in the order they are tried; the first whose test matches a frame wins. */
const CATEGORIES: { name: string; test: (url: string, fn: string) => boolean }[] = [
	{ name: "mediasoup utils.clone (structuredClone)", test: (url, fn) => url.includes('/mediasoup/node/lib/utils.js') && fn === 'clone' },
	{ name: 'mediasoup channel I/O', test: (url) => url.includes('/mediasoup/node/lib/Channel.js') },
	{ name: 'flatbuffers encode/decode', test: (url) => url.includes('/flatbuffers/') || url.includes('/mediasoup/node/lib/fbs/') },
	{ name: 'mediasoup ortc', test: (url) => url.includes('/mediasoup/node/lib/ortc.js') },
	{ name: 'other mediasoup JS', test: (url) => url.includes('/mediasoup/') },
	// ws frames, and the listener's per-tick uncork: the socket writev (and on wss the TLS encryption) under it.
	{ name: 'ws frames + client socket writes (TLS included)', test: (url, fn) => url.includes('/node_modules/ws/') || (url.includes('/lib/listener/NodeListener.js') && fn.includes('flush')) },
	{ name: 'protoo-server + WebSocket-Node (frames, socket writes)', test: (url) => url.includes('/protoo-server/') || url.includes('/websocket/') },
	{ name: 'zod', test: (url) => url.includes('/zod/') },
	{ name: 'our frame JSON (lib/protocol/messages)', test: (url) => url.includes('/lib/protocol/messages.js') },
	{ name: 'our code (rooms, protocol, listener, metrics)', test: (url) => /\/dist\/(lib|server)\//.test(url) },
	{ name: 'other node_modules', test: (url) => url.includes('/node_modules/') }
];
/** Frames with no caller outside Node: module loading, socket reads (and TLS under them), timers, the IPC channel. */
const NODE_ONLY = 'node internals with no caller outside Node (start-up, socket reads, TLS handshakes and decryption, timers, IPC)';

const GC = '(garbage collector)';

export interface ProfileShare {
	category: string;
	ms: number;
	/** Of the busy time (all but idle). */
	percent: number;
}

function categorize(url: string, fn: string): string | undefined {
	if (fn === GC) return 'GC';
	if (fn === '(program)') return 'V8/native outside JS ((program))';
	// The bench's write counter (tests/helpers/server-child) wraps net.Socket writes: see through it too.
	if (!url || url.startsWith('node:') || url.includes('/tests/helpers/')) return undefined;

	return CATEGORIES.find((c) => c.test(url, fn))?.name ?? 'other JS';
}

/** Self time by category over every profile in `dir` (idle time left out). */
export function groupProfiles(dir: string): { files: number; busyMs: number; shares: ProfileShare[] } {
	const totals = new Map<string, number>();
	const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));

	for (const file of files) {
		const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
		const byId = new Map(profile.nodes.map((n) => [n.id, n]));
		const parent = new Map<number, number>();

		for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

		const categoryOf = new Map<number, string>();
		const resolve = (id: number): string => {
			const known = categoryOf.get(id);

			if (known) return known;

			const node = byId.get(id)!;
			const own = categorize(node.callFrame.url, node.callFrame.functionName);
			const up = parent.get(id);
			const category = own ?? (up === undefined ? NODE_ONLY : resolve(up));

			categoryOf.set(id, category);

			return category;
		};

		profile.samples.forEach((id, i) => {
			if (byId.get(id)!.callFrame.functionName === '(idle)') return;

			const category = resolve(id);

			totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
		});
	}

	const busyMs = [...totals.values()].reduce((a, b) => a + b, 0);
	const shares = [...totals]
		.map(([category, ms]) => ({ category, ms, percent: busyMs ? (ms * 100) / busyMs : 0 }))
		.sort((a, b) => b.ms - a.ms);

	return { files: files.length, busyMs, shares };
}
