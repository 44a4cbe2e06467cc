// Headers every HTTP answer carries, from both listeners, the ops listener and
// the page's file server: browsers must not sniff types, leak the URL (room
// ids, tokens) in a Referer, or frame the page (clickjacking a camera prompt).

/** Browsers forget HSTS after a year without a visit. */
const HSTS_MAX_AGE = 365 * 24 * 3600;

/** JSON and text answers: nothing to load, nothing may frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The call page: its own scripts, styles and images only, no plugins, no
 * <base> or form target elsewhere; it may connect (fetch, WebSocket) to
 * itself and to `connectSources` (the signaling servers it is meant to use).
 */
export function pageCsp(connectSources: readonly string[] = []): string {
	return [
		"default-src 'self'",
		"img-src 'self' data:",
		"media-src 'self' blob: mediastream:",
		`connect-src ${["'self'", ...connectSources].join(' ')}`,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'"
	].join('; ');
}

export interface SecurityHeaderOptions {
	/** The answer goes out over TLS: add Strict-Transport-Security. */
	secure: boolean;
	csp?: string;
}

export function securityHeaders({ secure, csp = API_CSP }: SecurityHeaderOptions): Record<string, string> {
	return {
		'x-content-type-options': 'nosniff',
		'referrer-policy': 'no-referrer',
		'x-frame-options': 'DENY',
		'content-security-policy': csp,
		...(secure ? { 'strict-transport-security': `max-age=${HSTS_MAX_AGE}` } : {})
	};
}
