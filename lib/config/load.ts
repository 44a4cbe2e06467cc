// Resolves the configuration: defaults < .env file < environment < CLI flags
// < explicit overrides. Any invalid value is a ConfigError with a one-line
// message naming the variable; the caller prints it and exits non-zero.

import fs from 'node:fs';
import { parseEnv } from 'node:util';
import yargs from 'yargs';
import { z } from 'zod';
import { OPTIONS, type Config, type ConfigInput, type OptionSpec } from './options.js';

export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

export interface LoadOptions {
	/** CLI arguments (without node and the script). */
	argv?: string[];
	env?: NodeJS.ProcessEnv;
	/** Path of the .env file; a missing default file is fine, a missing explicit one is not. */
	envFile?: string;
	/** Values that win over everything (tests, embedding). */
	overrides?: ConfigInput;
}

export function flagName(spec: OptionSpec): string {
	return spec.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function schemaFor(spec: OptionSpec): z.ZodType {
	switch (spec.type) {
		case 'boolean':
			return z.union([z.boolean(), z.stringbool()]);
		case 'integer':
		case 'number': {
			let n = z.coerce.number();

			if (spec.type === 'integer') n = n.int();
			if (spec.min !== undefined) n = n.min(spec.min);
			if (spec.max !== undefined) n = n.max(spec.max);

			return n;
		}
		case 'string':
			return spec.choices ? z.enum(spec.choices as [string, ...string[]]) : z.string().min(1);
	}
}

function describeIssue(spec: OptionSpec, error: z.ZodError, raw: unknown): string {
	const issue = error.issues[0];
	let expected = issue?.message ?? 'invalid value';

	if (spec.choices) expected = `expected one of ${spec.choices.join(', ')}`;
	else if (spec.type === 'integer' || spec.type === 'number')
		expected = `expected ${spec.type === 'integer' ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`;
	else if (spec.type === 'boolean') expected = 'expected true or false';

	return `${spec.env}=${JSON.stringify(raw)} is invalid: ${expected}`;
}

function readEnvFile(path: string, explicit: boolean): Record<string, string> {
	let text: string;

	try {
		text = fs.readFileSync(path, 'utf8');
	} catch (error) {
		if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
		throw new ConfigError(`cannot read env file ${path}: ${(error as Error).message}`);
	}

	return parseEnv(text) as Record<string, string>;
}

function parseFlags(argv: string[]): { values: Record<string, unknown>; envFile: string | undefined } {
	const parser = yargs(argv)
		.scriptName('vcall')
		.usage('$0 [options]\n\nEvery option can also be set by its environment variable (or in .env).')
		.option('env-file', { type: 'string', description: 'Read variables from this file instead of ./.env' })
		.strict()
		.help()
		.version(false)
		.wrap(Math.min(120, process.stdout.columns ?? 100))
		.exitProcess(true);

	for (const spec of OPTIONS as readonly OptionSpec[]) {
		parser.option(flagName(spec), {
			type: spec.type === 'boolean' ? 'boolean' : spec.type === 'string' ? 'string' : 'number',
			description: `${spec.description} [${spec.env}]`,
			...(spec.choices ? { choices: spec.choices } : {}),
			...(spec.default !== undefined ? { defaultDescription: String(spec.default) } : {})
		});
	}

	const parsed = parser.parseSync();
	const values: Record<string, unknown> = {};

	for (const spec of OPTIONS as readonly OptionSpec[]) {
		const value = parsed[spec.key];

		if (value !== undefined) values[spec.key] = value;
	}

	return { values, envFile: parsed['env-file'] as string | undefined };
}

function checkReadable(path: string, what: string): void {
	try {
		fs.accessSync(path, fs.constants.R_OK);
	} catch {
		throw new ConfigError(`${what} ${path} is not readable`);
	}
}

function crossCheck(config: Config): void {
	if (config.rtcMinPort > config.rtcMaxPort)
		throw new ConfigError(`MEDIASOUP_MIN_PORT (${config.rtcMinPort}) is greater than MEDIASOUP_MAX_PORT (${config.rtcMaxPort})`);
	if (config.useWebRtcServer && config.rtcMaxPort - config.rtcMinPort + 1 < config.numWorkers)
		throw new ConfigError(`the RTC port range ${config.rtcMinPort}-${config.rtcMaxPort} has fewer ports than MEDIASOUP_NUM_WORKERS (${config.numWorkers})`);
	if ((config.sslCertPath === undefined) !== (config.sslKeyPath === undefined))
		throw new ConfigError('SSL_CERT_PATH and SSL_KEY_PATH must be set together');
	if ((config.turnUrls === undefined) !== (config.turnSecret === undefined))
		throw new ConfigError('TURN_URLS and TURN_SECRET must be set together');
	if (config.turnUrls && !config.turnUrls.split(',').every((url) => /^turns?:[^\s,]+$/.test(url.trim())))
		throw new ConfigError(`TURN_URLS=${JSON.stringify(config.turnUrls)} is invalid: expected turn: or turns: URLs, comma-separated`);
	if (config.adminToken !== undefined && config.adminToken.length < 32)
		throw new ConfigError('ADMIN_TOKEN must be at least 32 characters (make one: openssl rand -hex 32)');
	if (config.authSecret !== undefined && Buffer.byteLength(config.authSecret) < 32)
		throw new ConfigError('AUTH_SECRET must be at least 32 bytes (make one: openssl rand -hex 32)');
	if (config.authSecret !== undefined && config.authPublicKey !== undefined) throw new ConfigError('set AUTH_SECRET or AUTH_PUBLIC_KEY, not both');
	if (config.authMode === 'jwt' && config.authSecret === undefined && config.authPublicKey === undefined)
		throw new ConfigError('AUTH_MODE=jwt needs AUTH_SECRET or AUTH_PUBLIC_KEY');
	if (config.authPublicKey && !config.authPublicKey.includes('-----BEGIN')) checkReadable(config.authPublicKey, 'AUTH_PUBLIC_KEY');
	if (config.sslCertPath) checkReadable(config.sslCertPath, 'SSL_CERT_PATH');
	if (config.sslKeyPath) checkReadable(config.sslKeyPath, 'SSL_KEY_PATH');
}

export function loadConfig(options: LoadOptions = {}): Config {
	const env = options.env ?? process.env;
	const flags = parseFlags(options.argv ?? []);
	const explicitFile = flags.envFile ?? options.envFile ?? env.ENV_FILE;
	const fileEnv = readEnvFile(explicitFile ?? '.env', explicitFile !== undefined);
	const config: Record<string, unknown> = {};

	for (const spec of OPTIONS as readonly OptionSpec[]) {
		const override = (options.overrides as Record<string, unknown> | undefined)?.[spec.key];
		const fromEnv = env[spec.env] ?? fileEnv[spec.env];
		const raw = override ?? flags.values[spec.key] ?? (fromEnv === '' ? undefined : fromEnv) ?? spec.default;

		if (raw === undefined) {
			config[spec.key] = undefined;
			continue;
		}

		const result = schemaFor(spec).safeParse(raw);

		if (!result.success) throw new ConfigError(describeIssue(spec, result.error, raw));

		config[spec.key] = result.data;
	}

	crossCheck(config as Config);

	return config as Config;
}
