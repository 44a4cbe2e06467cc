// The ops listener: plain HTTP on OPS_HOST:OPS_PORT (loopback by default) for
// what only the operator may see or do: /metrics, /admin/*, /health with the
// internals. It never takes WebSockets. Modules add their routes with
// route(path, handler) before or after listen().

import debugFactory from 'debug';
import { NodeListener } from '../listener/NodeListener.js';
import type { HttpRequest, HttpResponse } from '../listener/types.js';
import { json, type Route } from './endpoints.js';

const debug = debugFactory('vcall:ops');

export class OpsRouteTakenError extends Error {
	constructor(path: string) {
		super(`ops route ${path} is already taken`);
		this.name = 'OpsRouteTakenError';
	}
}

export interface OpsServerOptions {
	host: string;
	/** 0 picks a free port. */
	port: number;
	/** Seconds, as for the signaling port's node listener. */
	httpTimeouts: { headers: number; request: number; keepAlive: number };
}

export class OpsServer {
	readonly #routes = new Map<string, Route>();
	/** The node listener, with every upgrade refused: HTTP only, the same timeouts and security headers. */
	readonly #listener: NodeListener;
	#port: number | undefined;

	constructor({ host, port, httpTimeouts }: OpsServerOptions) {
		this.#listener = new NodeListener({
			host,
			port,
			httpsPort: 0,
			tls: undefined,
			maxMessageBytes: 1024,
			maxBufferedTotal: 1024 * 1024,
			httpTimeouts,
			http: (req) => this.#answer(req),
			upgrade: () => ({ accept: false, status: 404, reason: 'Not Found: no WebSockets on the ops listener' }),
			connection: (ws) => ws.close(1008, 'no WebSockets on the ops listener')
		});
	}

	/** The bound port (after listen()). */
	get port(): number {
		if (this.#port === undefined) throw new Error('ops listener is not listening');

		return this.#port;
	}

	/** Serves `path` (exact match) with `handler`; a handler answering undefined means 404. */
	route(path: string, handler: Route): this {
		if (this.#routes.has(path)) throw new OpsRouteTakenError(path);
		this.#routes.set(path, handler);
		debug('route %s', path);

		return this;
	}

	async listen(): Promise<number> {
		({ port: this.#port } = await this.#listener.listen());
		debug('listening on port %d', this.#port);

		return this.#port;
	}

	close(): Promise<void> {
		return this.#listener.close();
	}

	async #answer(req: HttpRequest): Promise<HttpResponse> {
		return (await this.#routes.get(req.path)?.(req)) ?? json(404, { error: 'not found' });
	}
}
