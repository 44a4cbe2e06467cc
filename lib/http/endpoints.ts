// The HTTP side: /health, /api/server-info, CORS, and the origin check for
// WebSocket upgrades. Pure functions of the server's state, whichever
// listener delivered the request.

import type { ClusterHealth } from '../cluster/Cluster.js';
import type { Config } from '../config/options.js';
import { secretsEqual } from '../secrets.js';
import type { HttpRequest, HttpResponse, UpgradeDecision, UpgradeRequest } from '../listener/types.js';
import type { MediaCounts } from '../rooms/Room.js';

export interface HealthState {
	status: 'healthy' | 'degraded' | 'draining' | 'shutting-down';
	uptime: number;
	rooms: number;
	peers: number;
	workers: number;
	/** none: anyone may create and join rooms; jwt: joins need a signed token. */
	auth: 'none' | 'jwt';
	listener: { kind: string; reason: string };
	media: MediaCounts;
	/** Cluster mode only. */
	cluster?: ClusterHealth;
}

/** A route answers the requests it knows and returns undefined for the rest. */
export type Route = (req: HttpRequest) => HttpResponse | undefined | Promise<HttpResponse | undefined>;

export interface EndpointSources {
	config: Config;
	health: () => HealthState;
	/** Starts a drain (POST /admin/drain with ADMIN_TOKEN). */
	drain: () => void;
	/** Further routes (e.g. /metrics), tried first. */
	routes?: Route[];
}

function megabytes(bytes: number): string {
	return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)}GB` : `${Math.round(bytes / 1024 ** 2)}MB`;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
	return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

/** Origins from FRONTEND_URL ('*' allows any). */
export function allowedOrigins(config: Config): Set<string> {
	return new Set(
		config.frontendUrl
			.split(',')
			.map((o) => o.trim().replace(/\/+$/, ''))
			.filter(Boolean)
	);
}

function originAllowed(origins: Set<string>, origin: string): boolean {
	return origins.has('*') || origins.has(origin);
}

export function createHttpHandler(sources: EndpointSources): (req: HttpRequest) => Promise<HttpResponse> {
	const origins = allowedOrigins(sources.config);
	const serverInfo = {
		announcedIp: sources.config.announcedIp ?? null,
		announcedDomain: sources.config.announcedDomain ?? null,
		rtcPorts: { min: sources.config.rtcMinPort, max: sources.config.rtcMaxPort }
	};

	const adminAuthorization = sources.config.adminToken ? `Bearer ${sources.config.adminToken}` : undefined;

	async function route(req: HttpRequest): Promise<HttpResponse> {
		for (const extra of sources.routes ?? []) {
			const response = await extra(req);

			if (response) return response;
		}

		if (req.path === '/admin/drain' && adminAuthorization) {
			if (req.method !== 'POST') return json(405, { error: 'method not allowed' }, { allow: 'POST' });
			if (!secretsEqual(req.headers.authorization ?? '', adminAuthorization)) return json(401, { error: 'unauthorized' });
			sources.drain();

			return json(202, { status: 'draining' });
		}
		if (req.method === 'OPTIONS') return { status: 204, headers: { 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-max-age': '600' }, body: '' };
		if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' }, { allow: 'GET, OPTIONS' });

		if (req.path === '/health') {
			const state = sources.health();
			const memory = process.memoryUsage();

			return json(state.status === 'healthy' ? 200 : 503, {
				...state,
				memory: { used: megabytes(memory.rss), total: megabytes(memory.heapTotal), heapUsed: megabytes(memory.heapUsed) }
			});
		}
		if (req.path === '/api/server-info') return json(200, serverInfo);

		return json(404, { error: 'not found' });
	}

	return async (req) => {
		const response = await route(req);
		const origin = req.headers.origin;

		if (origin && originAllowed(origins, origin)) {
			response.headers['access-control-allow-origin'] = origins.has('*') ? '*' : origin;
			response.headers.vary = 'Origin';
		}

		return response;
	};
}

/** The client's address: the last X-Forwarded-For entry (the one our proxy added) when TRUST_PROXY is on. */
export function clientAddress(config: Config, req: Pick<UpgradeRequest, 'remoteAddress' | 'forwardedFor'>): string {
	if (!config.trustProxy) return req.remoteAddress;

	const last = req.forwardedFor.split(',').at(-1)?.trim();

	return last || req.remoteAddress;
}

export interface UpgradeSources {
	config: Config;
	accepting: () => boolean;
	/** Open connections from a client address. */
	connectionsFrom: (address: string) => number;
}

/**
 * protoo lives at '/', speaks the 'protoo' subprotocol, and accepts browsers
 * only from FRONTEND_URL. Clients that send no Origin (not browsers) pass.
 * With TLS on, the plain port takes no WebSockets (tokens would travel in
 * clear) unless ALLOW_INSECURE_WS; an address holding MAX_CONNECTIONS_PER_IP
 * gets 429.
 */
export function createUpgradeCheck({ config, accepting, connectionsFrom }: UpgradeSources): (req: UpgradeRequest) => UpgradeDecision {
	const origins = allowedOrigins(config);
	const plainRefused = config.sslCertPath !== undefined && !config.allowInsecureWs;

	return (req) => {
		if (!accepting()) return { accept: false, status: 503, reason: 'Service Unavailable' };
		if (req.path !== '/') return { accept: false, status: 404, reason: 'Not Found' };
		if (!req.protocols.includes('protoo')) return { accept: false, status: 400, reason: 'Bad Request: subprotocol protoo required' };
		if (req.origin && !originAllowed(origins, req.origin)) return { accept: false, status: 403, reason: 'Forbidden: origin not allowed' };
		if (plainRefused && !req.secure) return { accept: false, status: 403, reason: 'Forbidden: use wss:// on the HTTPS port' };

		const address = clientAddress(config, req);

		if (connectionsFrom(address) >= config.maxConnectionsPerIp)
			return { accept: false, status: 429, reason: 'Too Many Requests: too many connections from your address' };

		return { accept: true, protocol: 'protoo', client: { address, token: req.query.get('token') ?? undefined } };
	};
}
