// Throwaway self-signed certificates (CN=localhost, one day) for TLS tests.

import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Makes `<dir>/<name>-cert.pem` and `<dir>/<name>-key.pem` for each name in a fresh temporary dir. */
export async function selfSignedCerts(names: readonly string[]): Promise<{ dir: string; paths: Record<string, { certPath: string; keyPath: string }> }> {
	const dir = await mkdtemp(path.join(tmpdir(), 'vcall-certs-'));
	const paths: Record<string, { certPath: string; keyPath: string }> = {};

	for (const name of names) {
		const keyPath = path.join(dir, `${name}-key.pem`);
		const certPath = path.join(dir, `${name}-cert.pem`);

		await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyPath, '-out', certPath]);
		paths[name] = { certPath, keyPath };
	}

	return { dir, paths };
}
