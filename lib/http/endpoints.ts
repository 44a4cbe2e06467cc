// The HTTP side: the signaling port's /health and /api/server-info with CORS,
// the ops listener's /health and /admin/drain, and the origin check for
// WebSocket upgrades. Pure functions of the server's state, whichever
// listener delivered the request.

import { totalmem } from 'node:os';
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
	/** What the quotas allow and how much of it is used (ops listener only). */
	limits: LimitsState;
	/** Cluster mode only. */
	cluster?: ClusterHealth;
}

export interface LimitsState {
	rooms: { open: number; max: number };
	peers: { open: number; max: number };
	connections: { open: number; addresses: number; maxPerIp: number };
	sessions: number;
}

/** What the signaling port's /health is made from: the brief's figures, the auth mode and the listener. */
export type PublicHealthState = Pick<HealthState, 'status' | 'uptime' | 'rooms' | 'peers' | 'workers' | 'auth' | 'listener'>;

/** A route answers the requests it knows and returns undefined for the rest. */
export type Route = (req: HttpRequest) => HttpResponse | undefined | Promise<HttpResponse | undefined>;

export interface EndpointSources {
	config: Config;
	health: () => PublicHealthState;
}

export interface OpsSources {
	config: Config;
	health: () => HealthState;
	/** Starts a drain (POST /admin/drain with ADMIN_TOKEN). */
	drain: () => void;
	/** Every live node of the cluster (GET /cluster); undefined for a node alone. */
	cluster: () => unknown;
}

function megabytes(bytes: number): string {
	return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)}GB` : `${Math.round(bytes / 1024 ** 2)}MB`;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
	return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

/** /health: 200 while healthy, else 503, with the memory figures of the brief. */
function healthAnswer<T extends { status: HealthState['status'] }>(state: T): HttpResponse {
	const memory = process.memoryUsage();

	return json(state.status === 'healthy' ? 200 : 503, {
		...state,
		memory: { used: megabytes(memory.rss), total: megabytes(totalmem()), heapUsed: megabytes(memory.heapUsed) }
	});
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

/**
 * The signaling port's HTTP side: /health in the brief's shape (plus auth and
 * the listener's kind; the reason, media counts and limits are on the ops
 * listener), /api/server-info, CORS. Nothing else answers there.
 */
export function createHttpHandler(sources: EndpointSources): (req: HttpRequest) => Promise<HttpResponse> {
	const origins = allowedOrigins(sources.config);
	const serverInfo = {
		announcedIp: sources.config.announcedIp ?? null,
		announcedDomain: sources.config.announcedDomain ?? null,
		rtcPorts: { min: sources.config.rtcMinPort, max: sources.config.rtcMaxPort }
	};

	function route(req: HttpRequest): HttpResponse {
		if (req.method === 'OPTIONS') return { status: 204, headers: { 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-max-age': '600' }, body: '' };
		if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' }, { allow: 'GET, OPTIONS' });

		if (req.path === '/health') {
			const { status, uptime, rooms, peers, workers, auth, listener } = sources.health();

			return healthAnswer({ status, uptime, rooms, peers, workers, auth, listener: { kind: listener.kind } });
		}
		if (req.path === '/api/server-info') return json(200, serverInfo);

		return json(404, { error: 'not found' });
	}

	return async (req) => {
		const response = route(req);
		const origin = req.headers.origin;

		if (origin && originAllowed(origins, origin)) {
			response.headers['access-control-allow-origin'] = origins.has('*') ? '*' : origin;
			response.headers.vary = 'Origin';
		}

		return response;
	};
}

/** The ops listener's own routes: /health with the internals, and POST /admin/drain when ADMIN_TOKEN is set. */
export function opsRoutes({ config, health, drain, cluster }: OpsSources): Record<string, Route> {
	const get = (answer: () => HttpResponse): Route => (req) => (req.method === 'GET' || req.method === 'HEAD' ? answer() : json(405, { error: 'method not allowed' }, { allow: 'GET' }));
	const routes: Record<string, Route> = {
		'/health': get(() => healthAnswer(health())),
		'/cluster': get(() => {
			const view = cluster();

			return view === undefined ? json(404, { error: 'not in cluster mode (REDIS_URL is not set)' }) : json(200, view);
		})
	};
	const adminAuthorization = config.adminToken ? `Bearer ${config.adminToken}` : undefined;

	if (adminAuthorization) {
		routes['/admin/drain'] = (req) => {
			if (req.method !== 'POST') return json(405, { error: 'method not allowed' }, { allow: 'POST' });
			if (!secretsEqual(req.headers.authorization ?? '', adminAuthorization)) return json(401, { error: 'unauthorized' });
			drain();

			return json(202, { status: 'draining' });
		};
	}

	return routes;
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
	/** Seconds a client address closed for flooding must still wait (0: none). */
	coolingDown: (address: string) => number;
}

/**
 * protoo lives at '/', speaks the 'protoo' subprotocol, and accepts browsers
 * only from FRONTEND_URL. Clients that send no Origin (not browsers) pass.
 * With TLS on, the plain port takes no WebSockets (tokens would travel in
 * clear) unless ALLOW_INSECURE_WS; an address holding MAX_CONNECTIONS_PER_IP
 * gets 429.
 */
export function createUpgradeCheck({ config, accepting, connectionsFrom, coolingDown }: UpgradeSources): (req: UpgradeRequest) => UpgradeDecision {
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

		const wait = coolingDown(address);

		if (wait > 0) return { accept: false, status: 429, reason: `Too Many Requests: closed for flooding; retry in ${wait} s` };

		return { accept: true, protocol: 'protoo', client: { address, token: req.query.get('token') ?? undefined } };
	};
}
