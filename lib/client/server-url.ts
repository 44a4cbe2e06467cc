// Which signaling server the page uses. Only its own: the one its host
// configured (/config.json's serverUrl, else ws(s)://<this host>:3000/) or the
// page's own origin. A ?server= naming any other origin (a crafted invite link
// would send the camera to someone else's server) is used only if the user
// says yes in a dialog; otherwise it is ignored.

/** The page's host decides, in /config.json; without one, port 3000 of the host the page came from. */
async function configuredServerUrl(): Promise<string> {
	try {
		const response = await fetch('config.json', { cache: 'no-store' });

		if (response.ok) {
			const config = (await response.json()) as { serverUrl?: unknown };

			if (typeof config.serverUrl === 'string' && config.serverUrl) return config.serverUrl;
		}
	} catch {
		// No config.json (e.g. served by the tests): fall through.
	}

	return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname || 'localhost'}:3000/`;
}

/** 'wss://host:port' of a ws:// or wss:// URL; undefined for anything else. */
function wsOrigin(url: string): string | undefined {
	try {
		const parsed = new URL(url);

		return parsed.protocol === 'ws:' || parsed.protocol === 'wss:' ? `${parsed.protocol}//${parsed.host}` : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The server URL to join: `requested` (the ?server= parameter) when it is on
 * the configured server's origin or the page's own, or when `ask` (a
 * confirmation dialog) says yes; else the configured one.
 */
export async function resolveServerUrl(requested: string | null, ask: (message: string) => boolean = (m) => window.confirm(m)): Promise<string> {
	const configured = await configuredServerUrl();

	if (requested === null || requested === configured) return configured;

	const origin = wsOrigin(requested);

	if (!origin) return configured;

	const own = new Set([wsOrigin(configured), `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`]);

	if (own.has(origin)) return requested;

	const yes = ask(`This link wants to send your camera and microphone to another server:\n\n${origin}\n\nThis page's own server is ${wsOrigin(configured) ?? configured}. Connect to the other server only if you trust whoever sent you the link. Connect to ${origin}?`);

	return yes ? requested : configured;
}
