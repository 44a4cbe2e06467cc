// The `vcall/protocol` package entry: an app written against it gets typed
// requests, responses and notifications. The app below is compiled by tsc
// with vcall installed as a package (package.json "exports"); each
// expect-error directive fails the compile if the types it guards were loose.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const APP = `
import type { Notification, RequestMethod, RequestParams, Responses } from 'vcall/protocol';

declare function request<M extends RequestMethod>(method: M, data: RequestParams<M>): Promise<Responses[M]>;

export async function join(roomId: string): Promise<string> {
	const joined = await request('joinRoom', { roomId });
	const transport = await request('createWebRtcTransport', { roomId, direction: 'recv' });
	const port: number = transport.iceCandidates[0]!.port;

	// @ts-expect-error: a response has only its own fields
	joined.iceParameters;
	// @ts-expect-error: direction is 'send' or 'recv'
	await request('createWebRtcTransport', { roomId, direction: 'sideways' });
	// @ts-expect-error: no such method
	await request('fly', {});

	return joined.peerId + port;
}

export function onNotification(n: Notification): string {
	switch (n.method) {
		case 'newProducer':
			return n.data.kind;
		case 'roomClosed':
			// @ts-expect-error: roomClosed carries a reason, not a peer
			return n.data.peerId;
		default:
			return n.method;
	}
}
`;

test('an app type-checks against vcall/protocol, and wrong requests or notification reads do not compile', (t) => {
	// An app of its own outside the checkout (deploy tests copy dist/), with vcall installed as a link.
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcall-protocol-app-'));

	t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
	fs.mkdirSync(path.join(dir, 'node_modules'));
	fs.symlinkSync(root, path.join(dir, 'node_modules', 'vcall'));
	fs.writeFileSync(path.join(dir, 'app.ts'), APP);
	fs.writeFileSync(
		path.join(dir, 'tsconfig.json'),
		JSON.stringify({
			compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] },
			files: ['app.ts']
		})
	);

	const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });

	t.is(result.status, 0, result.stdout + result.stderr);
});
