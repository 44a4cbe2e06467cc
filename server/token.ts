// `vcall token`: prints a join token signed with AUTH_SECRET, for trying a
// server with AUTH_MODE=jwt or for scripts. App backends mint their own (README).

import yargs from 'yargs';
import { mintJoinToken } from '../lib/auth/JoinTokens.js';
import { GRANT_NAMES, ROOM_ID, type GrantName } from '../lib/auth/grants.js';
import { loadConfig } from '../lib/config/load.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** '90', '90s', '15m', '1h', '7d' in seconds. */
export function parseTtl(text: string): number {
	const match = /^(\d+)([smhd]?)$/.exec(text.trim());

	if (!match || Number(match[1]) === 0) throw new Error(`--ttl ${JSON.stringify(text)}: expected a duration like 3600, 15m, 1h or 7d`);

	return Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS];
}

export async function tokenCommand(argv: string[]): Promise<string> {
	const args = yargs(argv)
		.scriptName('vcall token')
		.usage('$0 --identity I [--room R] [--ttl 1h] [--grant publish,subscribe,...]\n\nSigns a join token with AUTH_SECRET (from the environment, .env or --env-file).')
		.option('identity', { type: 'string', demandOption: true, description: "The peer's identity (the token's sub), shown to others" })
		.option('room', { type: 'string', description: 'The room the token is for (created on joinRoom with the create grant); omit for a createRoom-only token' })
		.option('ttl', { type: 'string', default: '1h', description: 'How long the token is valid: 3600, 15m, 1h, 7d' })
		.option('grant', { type: 'string', default: GRANT_NAMES.join(','), description: `Comma-separated grants from ${GRANT_NAMES.join(', ')}` })
		.option('env-file', { type: 'string', description: 'Read AUTH_SECRET from this file instead of ./.env' })
		.strict()
		.help()
		.version(false)
		.exitProcess(true)
		.parseSync();

	if (args.room !== undefined && !ROOM_ID.test(args.room)) throw new Error('--room must be 1-64 characters of A-Z a-z 0-9 _ -');

	const grants = args.grant.split(',').map((g) => g.trim()).filter(Boolean);
	const unknown = grants.filter((g) => !(GRANT_NAMES as readonly string[]).includes(g));

	if (unknown.length) throw new Error(`unknown grant ${unknown.join(', ')}; expected ${GRANT_NAMES.join(', ')}`);

	const config = loadConfig({ argv: args['env-file'] ? ['--env-file', args['env-file']] : [] });

	if (!config.authSecret) throw new Error('AUTH_SECRET is not set (a server with AUTH_PUBLIC_KEY takes tokens from the app backend that holds the private key)');

	return mintJoinToken(config.authSecret, {
		identity: args.identity,
		room: args.room,
		ttlSeconds: parseTtl(args.ttl),
		grants: Object.fromEntries(grants.map((g) => [g as GrantName, true]))
	});
}
