// The address put in ICE candidates. Without MEDIASOUP_ANNOUNCED_IP (or
// _DOMAIN) the server guesses one so it still starts; in production it
// says loudly that remote peers will probably fail to connect.

import os from 'node:os';
import type { Config } from './options.js';

function firstExternalIPv4(): string | undefined {
	for (const addresses of Object.values(os.networkInterfaces()))
		for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;

	return undefined;
}

export interface AnnouncedChoice {
	config: Config;
	/** Set when the address was guessed. */
	warning: string | undefined;
}

export function resolveAnnounced(config: Config): AnnouncedChoice {
	if (config.announcedIp || config.announcedDomain) return { config, warning: undefined };

	const wildcard = config.listenIp === '0.0.0.0' || config.listenIp === '::';
	const guess = wildcard ? (firstExternalIPv4() ?? '127.0.0.1') : config.listenIp;
	const warning =
		config.nodeEnv !== 'production'
			? undefined
			: `MEDIASOUP_ANNOUNCED_IP is not set: announcing ${guess} (a guess). Peers outside this host's network will NOT connect unless it is the public IP; set MEDIASOUP_ANNOUNCED_IP to this server's public address.`;

	return { config: wildcard ? { ...config, announcedIp: guess } : config, warning };
}
