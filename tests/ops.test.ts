// Operations: the systemd unit (verify, sandbox rating, the settings the
// server's shutdown depends on), wait-ready.mjs against the real server,
// scripts/deploy.sh into a temporary root (install, idempotent re-run,
// repair, dry run, firewall rules from the env file), .env.example against the
// real option list, the development certificate and the coturn example.
// What the machine cannot do (no systemd-analyze, not root, no turnserver) is
// skipped with a log line saying why.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { loadConfig } from '../lib/config/load.js';
import { OPTIONS } from '../lib/config/options.js';
import { Coturn, configFrom, coturnMissing } from './helpers/coturn.js';
import { freePort } from './helpers/listeners.js';

// From dist/tests the repository is two levels up.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const unitPath = path.join(repo, 'systemd', 'vcall.service');
const deployScript = path.join(repo, 'scripts', 'deploy.sh');
const waitReady = path.join(repo, 'scripts', 'wait-ready.mjs');
const envExample = path.join(repo, '.env.example');
const isRoot = process.getuid?.() === 0;

function has(command: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

function skip(t: ExecutionContext, why: string): void {
	t.log(`skipped: ${why}`);
	t.pass();
}

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
	return spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
}

function tmpdir(t: ExecutionContext, prefix: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));

	t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

	return dir;
}

/** [Section] Key=Value pairs of a unit file; repeated keys keep every value. */
function parseUnit(text: string): Map<string, string[]> {
	const entries = new Map<string, string[]>();
	let section = '';

	for (const raw of text.split('\n')) {
		const line = raw.trim();

		if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
		if (line.startsWith('[')) {
			section = line.slice(1, -1);
			continue;
		}

		const eq = line.indexOf('=');
		const key = `${section}.${line.slice(0, eq)}`;

		entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
	}

	return entries;
}

const unitFiles = fs.readdirSync(path.join(repo, 'systemd')).filter((f) => /\.(service|socket|timer|target|path)$/.test(f));

// --- the unit ------------------------------------------------------------------

test('systemd-analyze verify accepts every unit in systemd/', (t) => {
	if (!has('systemd-analyze')) return skip(t, 'systemd-analyze is not installed (Debian package systemd)');

	t.true(unitFiles.length > 0);
	for (const file of unitFiles) {
		let target = path.join(repo, 'systemd', file);

		// verify needs ExecStart's binary; point a copy at this node when there is no /usr/bin/node.
		if (!fs.existsSync('/usr/bin/node')) {
			const dir = tmpdir(t, 'vcall-verify-');

			fs.writeFileSync(path.join(dir, file), fs.readFileSync(target, 'utf8').replaceAll('/usr/bin/node', process.execPath));
			target = path.join(dir, file);
			t.log(`${file}: verified with /usr/bin/node replaced by ${process.execPath}`);
		}

		const result = sh('systemd-analyze', ['verify', '--man=no', target]);
		const output = `${result.stdout}${result.stderr}`.trim();

		t.is(result.status, 0, output);
		t.false(output.includes(file), output);
	}
});

test('the sandbox rates "OK" or better in systemd-analyze security', (t) => {
	if (!has('systemd-analyze')) return skip(t, 'systemd-analyze is not installed (Debian package systemd)');

	const result = sh('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitPath]);
	const match = /Overall exposure level for vcall\.service: ([\d.]+) (\w+)/.exec(result.stdout);

	if (!match && /unrecognized option|--offline/.test(result.stderr)) return skip(t, `this systemd-analyze has no --offline: ${result.stderr.trim()}`);
	t.truthy(match, result.stdout + result.stderr);
	t.log(`exposure ${match![1]} ${match![2]}`);
	t.true(['PERFECT', 'SAFE', 'OK'].includes(match![2]!), match![0]);
	t.true(Number(match![1]) < 5);
});

test('the unit runs the built server as vcall, stops it gracefully and waits for /health', (t) => {
	const unit = parseUnit(fs.readFileSync(unitPath, 'utf8'));
	const one = (key: string) => unit.get(key)?.at(-1);
	const shutdownTimeout = OPTIONS.find((o) => o.key === 'shutdownTimeout')!.default;

	t.is(one('Service.Type'), 'exec');
	t.is(one('Service.ExecStart'), '/usr/bin/node /opt/vcall/dist/server/main.js');
	t.regex(one('Service.ExecStartPost') ?? '', /^\/usr\/bin\/node \/opt\/vcall\/scripts\/wait-ready\.mjs .*--pid \$MAINPID/);
	t.is(one('Service.User'), 'vcall');
	t.is(one('Service.EnvironmentFile'), '/etc/vcall/env');
	t.is(one('Service.WorkingDirectory'), '/opt/vcall');
	t.is(one('Service.KillMode'), 'mixed', 'SIGTERM to node only: it closes the workers after roomClosed');
	t.true(Number(one('Service.TimeoutStopSec')) > shutdownTimeout + 2, 'TimeoutStopSec outlasts SHUTDOWN_TIMEOUT');
	t.is(one('Service.Restart'), 'on-failure');
	t.is(one('Service.LimitNOFILE'), '65536');
	t.is(one('Service.ExecReload'), '/bin/kill -HUP $MAINPID');
	t.is(one('Service.CapabilityBoundingSet'), '');
	t.is(one('Service.MemoryDenyWriteExecute'), undefined, "V8's JIT needs writable+executable memory");
	t.true(one('Service.RestrictAddressFamilies')?.split(' ').includes('AF_NETLINK'), 'os.networkInterfaces() uses netlink');
});

// --- wait-ready.mjs ---------------------------------------------------------------


function runWaitReady(t: ExecutionContext, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
	const child = spawn(process.execPath, [waitReady, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';

	t.teardown(() => child.kill('SIGKILL'));

	child.stdout.on('data', (d: Buffer) => (output += d));
	child.stderr.on('data', (d: Buffer) => (output += d));

	return once(child, 'exit').then(([code]) => ({ code: code as number | null, output }));
}

test('wait-ready.mjs returns once the real server answers /health, and fails after its timeout', async (t) => {
	const port = await freePort();
	const env = { HOST: '127.0.0.1', PORT: String(port) };
	const waiting = runWaitReady(t, ['--timeout', '60'], env);
	// Started after the waiter, so it first sees connection refused.
	const server = spawn(process.execPath, [path.join(repo, 'dist', 'server', 'main.js')], {
		env: { ...process.env, ...env, NODE_ENV: 'test', OPS_PORT: '0', MEDIASOUP_LISTEN_IP: '127.0.0.1', MEDIASOUP_NUM_WORKERS: '1', MEDIASOUP_MIN_PORT: '39400', MEDIASOUP_MAX_PORT: '39409', ENV_FILE: '/dev/null' },
		stdio: ['ignore', 'ignore', 'pipe']
	});
	let serverErr = '';

	server.stderr.on('data', (d: Buffer) => (serverErr += d));
	t.teardown(() => server.kill('SIGKILL'));

	const serverExit = once(server, 'exit');
	const ready = await Promise.race([waiting, serverExit.then(([code]) => ({ code: -1, output: `the server exited (${code}) first` }))]);

	t.is(ready.code, 0, `${ready.output}\n${serverErr}`);
	t.regex(ready.output, new RegExp(`http://127\\.0\\.0\\.1:${port}/health is ready`));

	const res = await fetch(`http://127.0.0.1:${port}/health`);

	t.is(res.status, 200);
	server.kill('SIGTERM');
	t.is((await serverExit)[0], 0, 'SIGTERM exits 0');

	const started = Date.now();
	const late = await runWaitReady(t, ['--timeout', '1'], env);

	t.is(late.code, 1, late.output);
	t.regex(late.output, /not ready after 1s/);
	t.true(Date.now() - started < 15_000, 'bounded by --timeout (plus slack for a loaded machine)');
	t.is((await runWaitReady(t, ['--timeout', 'soon'], env)).code, 2);

	// --pid: a server that is gone ends the wait at once, not after the timeout.
	const gone = spawnSync(process.execPath, ['-e', '']).pid;
	const early = Date.now();
	const dead = await runWaitReady(t, ['--timeout', '30', '--pid', String(gone)], env);

	t.is(dead.code, 1, dead.output);
	t.regex(dead.output, /exited before/);
	t.true(Date.now() - early < 20_000, 'well before the 30 s timeout');
});

// --- deploy.sh ---------------------------------------------------------------------

interface Entry {
	mode: number;
	size: number;
	mtimeMs: number;
	ino: number;
	link?: string;
}

/** Every path under dir with its metadata: any change made shows as a difference. */
function snapshot(dir: string): Map<string, Entry> {
	const entries = new Map<string, Entry>();

	if (!fs.existsSync(dir)) return entries;
	for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
		const full = path.join(dir, rel);
		const st = fs.lstatSync(full);

		// A directory's mtime moves when a temporary entry comes and goes (the
		// staged release in /opt): its entries are compared instead.
		entries.set(rel, { mode: st.mode, size: st.isDirectory() ? 0 : st.size, mtimeMs: st.isDirectory() ? 0 : st.mtimeMs, ino: st.ino, ...(st.isSymbolicLink() ? { link: fs.readlinkSync(full) } : {}) });
	}

	return entries;
}

function deploy(root: string, ...flags: string[]): { code: number | null; out: string } {
	const result = sh('bash', [deployScript, '--root', root, '--skip-build', ...flags]);

	return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

function groupId(root: string, name: string): number | undefined {
	const line = fs.readFileSync(path.join(root, 'etc', 'group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));

	return line === undefined ? undefined : Number(line.split(':')[2]);
}

function sysctlValues(file: string): Map<string, string> {
	const values = new Map<string, string>();

	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		const m = /^\s*([\w.]+)\s*=\s*(.+?)\s*$/.exec(line);

		if (m) values.set(m[1]!, m[2]!);
	}

	return values;
}

// One temporary root shared by the serial deploy tests, in this order.
let deployRoot = '';
const deploySkip = !isRoot
	? 'deploy.sh needs root (it chowns files to root:vcall)'
	: !has('systemd-sysusers')
		? 'systemd-sysusers is missing (Debian package systemd): deploy.sh --root cannot create the user'
		: !fs.existsSync(path.join(repo, 'dist', 'server', 'main.js'))
			? 'dist/ is not built (npm run build)'
			: undefined;

test.serial('deploy.sh --root installs app, user, env, unit and sysctl into the root', (t) => {
	if (deploySkip) return skip(t, deploySkip);
	t.timeout(240_000);
	deployRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vcall-deploy-'));

	const root = deployRoot;
	const app = path.join(root, 'opt', 'vcall');
	const { code, out } = deploy(root);

	t.is(code, 0, out);
	t.log(out.split('\n').filter((l) => l.startsWith('deploy:')).join('\n'));

	// The app: runtime files only, root-owned, production dependencies only.
	for (const file of ['package.json', 'package-lock.json', 'dist/server/main.js', 'scripts/wait-ready.mjs', 'systemd/vcall.service'])
		t.true(fs.existsSync(path.join(app, file)), file);
	t.deepEqual(fs.readFileSync(path.join(app, 'package.json')), fs.readFileSync(path.join(repo, 'package.json')));
	t.false(fs.existsSync(path.join(app, 'dist', 'tests')), 'no tests in the release');
	t.is(fs.statSync(path.join(app, 'dist', 'server', 'main.js')).uid, 0);

	const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

	for (const dep of Object.keys(pkg.dependencies)) t.true(fs.existsSync(path.join(app, 'node_modules', dep, 'package.json')), `dependency ${dep}`);
	for (const dep of Object.keys(pkg.devDependencies)) t.false(fs.existsSync(path.join(app, 'node_modules', dep)), `devDependency ${dep} pruned`);

	// The user: a system account with no shell and no home.
	const passwd = fs.readFileSync(path.join(root, 'etc', 'passwd'), 'utf8');

	t.regex(passwd, /^vcall:x:\d+:\d+:[^:]*:\/nonexistent:\/usr\/sbin\/nologin$/m);

	const gid = groupId(root, 'vcall');

	t.truthy(gid);

	// The env file: .env.example, 0640 root:vcall.
	const envFile = path.join(root, 'etc', 'vcall', 'env');
	const st = fs.statSync(envFile);

	// .env.example with join tokens on and a fresh secret: closed by default.
	const written = fs.readFileSync(envFile, 'utf8');
	const secret = /^AUTH_SECRET=([0-9a-f]{64})$/m.exec(written)?.[1];

	t.truthy(secret, 'a 32-byte AUTH_SECRET is generated');
	t.is(written, fs.readFileSync(envExample, 'utf8').replace(/^AUTH_MODE=none$/m, 'AUTH_MODE=jwt').replace(/^# AUTH_SECRET=$/m, `AUTH_SECRET=${secret}`));
	t.is(st.mode & 0o777, 0o640);
	t.is(st.uid, 0);
	t.is(st.gid, gid!);

	// The unit, enabled (symlink only).
	t.is(fs.readFileSync(path.join(root, 'etc', 'systemd', 'system', 'vcall.service'), 'utf8'), fs.readFileSync(unitPath, 'utf8'));
	t.is(fs.readlinkSync(path.join(root, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'vcall.service')), '/etc/systemd/system/vcall.service');

	// sysctl: the brief's BBR and keepalive, plus UDP buffers.
	const sysctl = sysctlValues(path.join(root, 'etc', 'sysctl.d', '90-vcall.conf'));

	t.is(sysctl.get('net.core.default_qdisc'), 'fq');
	t.is(sysctl.get('net.ipv4.tcp_congestion_control'), 'bbr');
	t.is(sysctl.get('net.ipv4.tcp_keepalive_time'), '60');
	t.is(sysctl.get('net.ipv4.tcp_keepalive_probes'), '3');
	t.true(Number(sysctl.get('net.core.rmem_max')) >= 26214400);
	t.true(Number(sysctl.get('net.core.wmem_max')) >= 26214400);
	t.true(Number(sysctl.get('net.core.rmem_default')) >= 1048576);
	t.true(Number(sysctl.get('net.core.wmem_default')) >= 1048576);
	t.true(Number(sysctl.get('net.ipv4.udp_rmem_min')) > 4096);
	t.true(Number(sysctl.get('net.ipv4.udp_wmem_min')) > 4096);

	// Firewall rules for the default ports; no HTTPS without certificates, no TURN.
	t.regex(out, /ufw allow 3000\/tcp/);
	t.regex(out, /ufw allow 40000:49999\/udp/);
	t.regex(out, /ufw allow 40000:49999\/tcp/);
	t.regex(out, /Ops listener \(\/metrics, POST \/admin\/drain\) on 127\.0\.0\.1:3090: open it to NOBODY/);
	t.notRegex(out, /allow 3090/, 'the firewall never opens the ops port');
	t.notRegex(out, /3443/);
	t.notRegex(out, /3478/);
	t.regex(out, /done: \d+ change/);
});

test.serial('deploy.sh again: nothing changes, the edited env file stays, firewall follows it', (t) => {
	if (deploySkip) return skip(t, deploySkip);
	t.timeout(240_000);

	const root = deployRoot;
	const envFile = path.join(root, 'etc', 'vcall', 'env');
	const edited = `${fs.readFileSync(envFile, 'utf8')}MEDIASOUP_MIN_PORT=41000\nMEDIASOUP_ANNOUNCED_IP=203.0.113.7\nSSL_CERT_PATH=/etc/ssl/vcall.pem\nSSL_KEY_PATH=/etc/ssl/vcall.key\nHTTPS_PORT=8443\nTURN_SECRET=not-empty\n`;

	fs.writeFileSync(envFile, edited);

	const before = snapshot(root);
	const { code, out } = deploy(root);

	t.is(code, 0, out);
	t.regex(out, /done: 0 change\(s\)/);
	t.deepEqual(snapshot(root), before, 'no file written, moved or touched');
	t.is(fs.readFileSync(envFile, 'utf8'), edited);
	t.false(fs.existsSync(path.join(root, 'opt', 'vcall.prev')));

	t.regex(out, /ufw allow 41000:49999\/udp/);
	t.regex(out, /ufw allow 41000:49999\/tcp/);
	t.notRegex(out, /40000:49999/);
	t.regex(out, /ufw allow 8443\/tcp/, 'HTTPS_PORT once SSL paths are set');
	t.regex(out, /ufw allow 3478\/udp/, 'TURN once a TURN_ variable is set');
	t.regex(out, /ufw allow 5349\/tcp/);
	t.regex(out, /ufw allow 50000:59999\/udp/);
	t.regex(out, /UDP 41000-49999/);
	t.notRegex(out, /MEDIASOUP_ANNOUNCED_IP is not set/);
});

test.serial('deploy.sh repairs what differs: a changed unit, a damaged app (kept as .prev)', (t) => {
	if (deploySkip) return skip(t, deploySkip);
	t.timeout(240_000);

	const root = deployRoot;
	const unit = path.join(root, 'etc', 'systemd', 'system', 'vcall.service');
	const app = path.join(root, 'opt', 'vcall');

	fs.appendFileSync(unit, '# local edit\n');
	fs.rmSync(path.join(app, 'scripts', 'wait-ready.mjs'));

	const { code, out } = deploy(root);

	t.is(code, 0, out);
	t.regex(out, /done: 2 change\(s\)/);
	t.is(fs.readFileSync(unit, 'utf8'), fs.readFileSync(unitPath, 'utf8'));
	t.true(fs.existsSync(path.join(app, 'scripts', 'wait-ready.mjs')));
	t.false(fs.existsSync(path.join(root, 'opt', 'vcall.prev', 'scripts', 'wait-ready.mjs')), 'the previous release is kept as it was');
});

test.serial('deploy.sh --dry-run prints the actions and changes nothing', (t) => {
	if (deploySkip) return skip(t, deploySkip);
	t.timeout(120_000);

	// Over an installed root: nothing moves.
	const before = snapshot(deployRoot);
	const again = deploy(deployRoot, '--dry-run');

	t.is(again.code, 0, again.out);
	t.deepEqual(snapshot(deployRoot), before);
	t.regex(again.out, /dry run done: 0 change/);

	// Into an empty root: it is not even created, yet every step is shown.
	const fresh = path.join(os.tmpdir(), `vcall-dry-${process.pid}-${Date.now()}`);
	const dry = deploy(fresh, '--dry-run');

	t.is(dry.code, 0, dry.out);
	t.false(fs.existsSync(fresh));
	t.regex(dry.out, /\+ systemd-sysusers --root /);
	t.regex(dry.out, /\+ install -D -m 0640 -o 0 -g vcall -- \S+ .*\/etc\/vcall\/env/);
	t.regex(dry.out, /AUTH_MODE=jwt with a new AUTH_SECRET/);
	t.regex(dry.out, /\+ install -D -m 0644 .*\/etc\/systemd\/system\/vcall\.service/);
	t.regex(dry.out, /\+ install -D -m 0644 .*\/etc\/sysctl\.d\/90-vcall\.conf/);
	t.regex(dry.out, /\+ systemctl --root=.* enable vcall\.service/);
	t.regex(dry.out, /would stage the release/);
	t.regex(dry.out, /ufw allow 40000:49999\/udp/);
	t.regex(dry.out, /dry run done: [1-9]\d* change\(s\) would be made/);
});

test.after.always(() => {
	if (deployRoot) fs.rmSync(deployRoot, { recursive: true, force: true });
});

test('deploy.sh refuses unknown options and prints --help', (t) => {
	const help = sh('bash', [deployScript, '--help']);

	t.is(help.status, 0);
	for (const flag of ['--dry-run', '--root', '--skip-build']) t.true(help.stdout.includes(flag), flag);
	t.is(sh('bash', [deployScript, '--bogus']).status, 2);
});

// --- .env.example ---------------------------------------------------------------

test('.env.example names every option with its default, in a form systemd and the loader both read', (t) => {
	const text = fs.readFileSync(envExample, 'utf8');
	const active = new Map<string, string>();

	for (const line of text.split('\n')) {
		const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);

		if (m) active.set(m[1]!, m[2]!);
		// EnvironmentFile= has no trailing comments and no leading blanks.
		t.false(/^\s+[A-Z_]+=/.test(line), line);
	}
	for (const option of OPTIONS) {
		if (option.default === undefined || option.key === 'numWorkers') {
			t.regex(text, new RegExp(`^# ${option.env}=`, 'm'), `${option.env} commented out (no fixed default)`);
			t.false(active.has(option.env), option.env);
		} else {
			t.is(active.get(option.env), String(option.default), option.env);
		}
	}
	for (const value of active.values()) t.false(value.includes('#'), value);
	t.regex(text, /REQUIRED[^\n]*\n(#[^\n]*\n)*# MEDIASOUP_ANNOUNCED_IP=/);
	t.regex(text, /TURN/);

	// The real loader reads it as the defaults.
	const fromFile = loadConfig({ env: {}, envFile: envExample, argv: [] });
	const defaults = loadConfig({ env: {}, envFile: '/dev/null', argv: [] });

	t.deepEqual(fromFile, defaults);
});

// --- certificates -----------------------------------------------------------------

test('make-dev-cert.sh makes a valid self-signed certificate for localhost, 127.0.0.1 and a given name', (t) => {
	if (!has('openssl')) return skip(t, 'openssl is not installed');

	const dir = tmpdir(t, 'vcall-cert-');
	const result = sh('bash', [path.join(repo, 'certs', 'make-dev-cert.sh'), 'call.test'], { CERT_DIR: dir });

	t.is(result.status, 0, result.stderr);

	const certFile = path.join(dir, 'cert.pem');
	const keyFile = path.join(dir, 'key.pem');

	t.true(result.stdout.includes(`SSL_CERT_PATH=${certFile}`));
	t.true(result.stdout.includes(`SSL_KEY_PATH=${keyFile}`));
	t.is(sh('openssl', ['x509', '-checkend', '0', '-noout', '-in', certFile]).status, 0, 'not expired');
	t.is(fs.statSync(keyFile).mode & 0o777, 0o600);

	const san = sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', certFile]).stdout;

	t.log(san.trim().split('\n').at(-1)?.trim());
	for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:call.test']) t.true(san.includes(name), name);

	const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
	const key = fs.readFileSync(keyFile);

	t.is(cert.checkHost('localhost'), 'localhost');
	t.is(cert.checkHost('call.test'), 'call.test');
	t.is(cert.checkIP('127.0.0.1'), '127.0.0.1');
	t.false(cert.ca, 'a leaf certificate');
	t.true(cert.checkPrivateKey(crypto.createPrivateKey(key)));
	t.notThrows(() => tls.createSecureContext({ cert: fs.readFileSync(certFile), key }));

	// An IP argument becomes an IP SAN.
	const ipDir = tmpdir(t, 'vcall-cert-ip-');

	t.is(sh('bash', [path.join(repo, 'certs', 'make-dev-cert.sh'), '192.0.2.5'], { CERT_DIR: ipDir }).status, 0);
	t.is(new crypto.X509Certificate(fs.readFileSync(path.join(ipDir, 'cert.pem'))).checkIP('192.0.2.5'), '192.0.2.5');
});

// --- coturn -------------------------------------------------------------------------

test('the coturn example keeps its relay range off mediasoup\'s and starts with turnserver', async (t) => {
	const example = fs.readFileSync(path.join(repo, 'systemd', 'coturn.conf.example'), 'utf8');
	const setting = (key: string) => new RegExp(`^${key}(?:=(.*))?$`, 'm').exec(example)?.[1];
	const rtcMin = OPTIONS.find((o) => o.key === 'rtcMinPort')!.default;
	const rtcMax = OPTIONS.find((o) => o.key === 'rtcMaxPort')!.default;

	for (const key of ['use-auth-secret', 'no-multicast-peers', 'no-cli']) t.regex(example, new RegExp(`^${key}$`, 'm'), key);
	t.is(setting('static-auth-secret'), 'CHANGE_ME');
	t.is(setting('listening-port'), '3478');
	t.is(setting('tls-listening-port'), '5349');
	t.true(Number(setting('min-port')) > rtcMax || Number(setting('max-port')) < rtcMin, 'relay range distinct from the RTC range');
	for (const range of ['10.0.0.0-', '172.16.0.0-', '192.168.0.0-', '127.0.0.0-']) t.true(example.includes(`denied-peer-ip=${range}`), range);

	const missing = coturnMissing();

	if (missing) return skip(t, `${missing}: config not started`);

	// Run it on loopback with free ports and the dev certificate: it must get as far as relaying.
	const dir = tmpdir(t, 'vcall-turn-');

	t.is(sh('bash', [path.join(repo, 'certs', 'make-dev-cert.sh')], { CERT_DIR: dir }).status, 0);

	const turn = await Coturn.start(
		configFrom(example, {
			'listening-port': String(await freePort()),
			'tls-listening-port': String(await freePort()),
			'listening-ip': '127.0.0.1',
			cert: `${dir}/cert.pem`,
			pkey: `${dir}/key.pem`,
			syslog: null,
			'log-file': 'stdout'
		}),
		dir
	);

	t.teardown(() => turn.stop());
	t.notRegex(turn.log, /CONFIG ERROR|Bad configuration|unknown option/i);
	t.true(turn.log.includes(`${dir}/key.pem`), 'TLS key loaded');
});
