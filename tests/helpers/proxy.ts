// A TCP proxy on loopback between a client and the server, so a test can
// drop a client's connection as a network failure would (both ends see the
// TCP connection end, no WebSocket close frame) and keep it down for a
// while: new connections are cut at once until the proxy is unblocked.
//
// It can also cut the connection right after it has passed on one protoo
// request: the server handles it, and its answer is lost in the drop.

import net from 'node:net';

interface Pipe {
	client: net.Socket;
	upstream: net.Socket;
}

interface Trigger {
	method: string;
	fired: () => void;
}

/** Yields the payloads of the complete client-to-server WebSocket frames at the start of `buffer`, and what is left over. */
function clientFrames(buffer: Buffer): { payloads: Buffer[]; rest: Buffer } {
	const payloads: Buffer[] = [];
	let rest = buffer;

	while (rest.length >= 2) {
		const short = rest[1]! & 0x7f;
		const headerBytes = short === 126 ? 4 : short === 127 ? 10 : 2;

		if (rest.length < headerBytes + 4) break;

		const length = short === 126 ? rest.readUInt16BE(2) : short === 127 ? Number(rest.readBigUInt64BE(2)) : short;
		// Frames from a client are always masked (RFC 6455 5.3).
		const mask = rest.subarray(headerBytes, headerBytes + 4);
		const start = headerBytes + 4;

		if (rest.length < start + length) break;
		payloads.push(Buffer.from(rest.subarray(start, start + length).map((byte, i) => byte ^ mask[i % 4]!)));
		rest = rest.subarray(start + length);
	}

	return { payloads, rest };
}

function requestMethod(payload: Buffer): string | undefined {
	try {
		const message = JSON.parse(payload.toString('utf8')) as { request?: unknown; method?: unknown };

		return message.request === true && typeof message.method === 'string' ? message.method : undefined;
	} catch {
		return undefined;
	}
}

export class SocketProxy {
	readonly #server: net.Server;
	readonly #targetPort: number;
	readonly #pipes = new Set<Pipe>();
	#blocked = false;
	#trigger: Trigger | undefined;

	static async start(targetPort: number): Promise<SocketProxy> {
		const proxy = new SocketProxy(targetPort);

		await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));

		return proxy;
	}

	private constructor(targetPort: number) {
		this.#targetPort = targetPort;
		this.#server = net.createServer((client) => this.#accept(client));
	}

	get url(): string {
		const address = this.#server.address() as net.AddressInfo;

		return `ws://127.0.0.1:${address.port}/`;
	}

	/** Cuts every connection and every new one until unblock(). */
	block(): void {
		this.#blocked = true;
		for (const pipe of this.#pipes) this.#cut(pipe);
	}

	unblock(): void {
		this.#blocked = false;
	}

	/** Cuts the connections (and blocks) right after a request of `method` has been passed to the server; resolves then. */
	blockAfterRequest(method: string): Promise<void> {
		return new Promise((fired) => (this.#trigger = { method, fired }));
	}

	async close(): Promise<void> {
		this.block();
		await new Promise((resolve) => this.#server.close(resolve));
	}

	#accept(client: net.Socket): void {
		if (this.#blocked) {
			client.destroy();
			return;
		}

		const upstream = net.connect(this.#targetPort, '127.0.0.1');
		const pipe = { client, upstream };
		let handshake = true;
		let pending: Buffer = Buffer.alloc(0);

		this.#pipes.add(pipe);
		client.on('data', (chunk: Buffer) => {
			upstream.write(chunk);
			// Every frame is read, so the parser stays aligned for a trigger set later.
			pending = Buffer.concat([pending, chunk]);
			if (handshake) {
				const end = pending.indexOf('\r\n\r\n');

				if (end < 0) return;
				handshake = false;
				pending = pending.subarray(end + 4);
			}

			const { payloads, rest } = clientFrames(pending);
			const trigger = this.#trigger;

			pending = rest;
			if (trigger && payloads.some((payload) => requestMethod(payload) === trigger.method)) {
				this.#trigger = undefined;
				this.block();
				trigger.fired();
			}
		});
		upstream.on('data', (chunk: Buffer) => {
			if (!client.destroyed) client.write(chunk);
		});
		for (const socket of [client, upstream]) {
			socket.on('error', () => this.#cut(pipe));
			socket.on('close', () => this.#cut(pipe));
		}
	}

	/** The client's side goes at once; the server's side gets what was already passed on, then the end of the stream. */
	#cut(pipe: Pipe): void {
		if (!this.#pipes.delete(pipe)) return;
		pipe.client.destroy();
		pipe.upstream.end();
		pipe.upstream.once('end', () => pipe.upstream.destroy());
		setTimeout(() => pipe.upstream.destroy(), 1000).unref();
	}
}
