// Time-limited TURN credentials in the TURN REST scheme that coturn's
// use-auth-secret implements: username = "<expiry unix time>:<peer id>",
// credential = base64(HMAC-SHA1(secret, username)). The secret never leaves
// the server; a leaked credential expires by itself.

import { createHmac } from 'node:crypto';
import type { Config } from '../config/options.js';
import type { IceServer } from '../protocol/methods.js';

export function turnServers(config: Config, peerId: string, now = Date.now()): IceServer[] {
	if (!config.turnUrls || !config.turnSecret) return [];

	const username = `${Math.floor(now / 1000) + config.turnCredentialTtl}:${peerId}`;
	const credential = createHmac('sha1', config.turnSecret).update(username).digest('base64');

	return [{ urls: config.turnUrls.split(',').map((url) => url.trim()), username, credential }];
}
