#!/usr/bin/env node
// Run before the tests (npm's pretest): makes sure the Debian packages the
// browser and network tests use are installed. As root it installs what is
// missing; otherwise it prints the command and the tests that need a missing
// package skip themselves with a message.

import { execFileSync, spawnSync } from 'node:child_process';

const PACKAGES = [
	['chromium', '/usr/bin/chromium'],
	['nftables', '/usr/sbin/nft'],
	['iproute2', '/usr/sbin/ip'],
	['coturn', '/usr/bin/turnserver'],
	['openssl', '/usr/bin/openssl'],
	['redis-server', '/usr/bin/redis-server']
];

function installed(pkg) {
	const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });

	return result.status === 0 && result.stdout.includes('install ok installed');
}

const missing = PACKAGES.filter(([pkg]) => !installed(pkg)).map(([pkg]) => pkg);

if (missing.length === 0) process.exit(0);

if (process.getuid?.() !== 0) {
	console.warn(`test-setup: missing Debian packages: ${missing.join(' ')}\n  run: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}\n  (tests that need them will be skipped)`);
	process.exit(0);
}

console.log(`test-setup: installing ${missing.join(' ')} (apt-get)...`);

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
// Debian starts coturn and redis-server as services on install; the tests start their own.
for (const service of ['coturn', 'redis-server']) if (missing.includes(service)) spawnSync('systemctl', ['disable', '--now', service], { stdio: 'ignore' });
