// A minimal WebSocket client on node:net, speaking protoo, for load
// generation: the cheaper the generator, the more of the 2 cores is left to
// the server under test. Frames are masked with an all-zero key (allowed by
// RFC 6455: the key is random in browsers to defeat proxy cache poisoning, not
// for the server's sake), so sending costs no XOR; responses are recognised by
// their fixed prefix without a full JSON.parse.

import { randomBytes } from 'node:crypto';
import net from 'node:net';

const RESPONSE_PREFIX = '{"response":true,"id":';

export type ResponseHandler = (id: number, ok: boolean, text: string) => void;

function frameHeader(opcode: number, length: number): Buffer {
	// FIN + opcode; MASK bit + length; 4-byte zero mask key.
	if (length < 126) {
		const header = Buffer.alloc(6);

		header[0] = 0x80 | opcode;
		header[1] = 0x80 | length;

		return header;
	}
	if (length < 65536) {
		const header = Buffer.alloc(8);

		header[0] = 0x80 | opcode;
		header[1] = 0x80 | 126;
		header.writeUInt16BE(length, 2);

		return header;
	}

	const header = Buffer.alloc(14);

	header[0] = 0x80 | opcode;
	header[1] = 0x80 | 127;
	header.writeBigUInt64BE(BigInt(length), 2);

	return header;
}

export class RawProtooClient {
	readonly #socket: net.Socket;
	#buffer: Buffer = Buffer.alloc(0);
	#fragments: Buffer[] = [];
	#closed = false;
	#nextId = 1;
	readonly #pending = new Map<number, { resolve: (data: any) => void; reject: (error: Error) => void }>();
	/** Fast path for load: called for every response not awaited through request(). */
	onResponse: ResponseHandler | undefined;
	onNotification: ((text: string) => void) | undefined;
	onClose: (() => void) | undefined;
	notifications = 0;

	/** `localAddress`: the loopback address to connect from (e.g. 127.0.0.7), to look like many clients. */
	static connect(url: string, timeoutMs = 10_000, localAddress?: string): Promise<RawProtooClient> {
		const { hostname, port, pathname } = new URL(url);

		return new Promise((resolve, reject) => {
			const socket = net.connect({ host: hostname, port: Number(port), noDelay: true, ...(localAddress ? { localAddress } : {}) });
			const key = randomBytes(16).toString('base64');
			let head = Buffer.alloc(0);
			const timer = setTimeout(() => {
				socket.destroy();
				reject(new Error('WebSocket handshake timed out'));
			}, timeoutMs);
			const fail = (error: Error) => {
				clearTimeout(timer);
				socket.destroy();
				reject(error);
			};
			const onData = (chunk: Buffer) => {
				head = Buffer.concat([head, chunk]);

				const end = head.indexOf('\r\n\r\n');

				if (end === -1) return;
				socket.off('data', onData);
				socket.off('error', fail);
				clearTimeout(timer);

				const status = head.subarray(0, head.indexOf('\r\n')).toString();

				if (!/^HTTP\/1\.1 101/.test(status)) {
					fail(new Error(`WebSocket upgrade refused: ${status}`));

					return;
				}
				resolve(new RawProtooClient(socket, head.subarray(end + 4)));
			};

			socket.on('data', onData);
			socket.once('error', fail);
			socket.once('connect', () => {
				socket.write(
					`GET ${pathname || '/'} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
						`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: protoo\r\n\r\n`
				);
			});
		});
	}

	private constructor(socket: net.Socket, rest: Buffer) {
		this.#socket = socket;
		socket.on('data', (chunk: Buffer) => this.#onData(chunk));
		socket.on('error', () => undefined);
		socket.on('close', () => {
			this.#closed = true;
			for (const pending of this.#pending.values()) pending.reject(new Error('connection closed'));
			this.#pending.clear();
			this.onClose?.();
		});
		if (rest.length) this.#onData(rest);
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Sends one text frame. */
	sendText(text: string): void {
		if (this.#closed) return;

		const length = Buffer.byteLength(text);
		const header = frameHeader(0x1, length);
		const frame = Buffer.allocUnsafe(header.length + length);

		header.copy(frame, 0);
		frame.write(text, header.length);
		this.#socket.write(frame);
	}

	/** Batches the writes made in fn into as few TCP segments as possible. */
	batch(fn: () => void): void {
		this.#socket.cork();
		try {
			fn();
		} finally {
			this.#socket.uncork();
		}
	}

	/** Sends a request whose response goes to onResponse; returns its id. */
	fire(method: string, dataJson: string): number {
		const id = this.#nextId++;

		this.sendText(`{"request":true,"id":${id},"method":"${method}","data":${dataJson}}`);

		return id;
	}

	/** A request awaited as a promise (setup, not the measured hot path). */
	request(method: string, data: unknown = {}): Promise<any> {
		// The close handler has already rejected what was pending: this one would wait forever.
		if (this.#closed) return Promise.reject(new Error('connection closed'));

		const id = this.#nextId++;

		return new Promise((resolve, reject) => {
			this.#pending.set(id, { resolve, reject });
			this.sendText(JSON.stringify({ request: true, id, method, data }));
		});
	}

	close(): void {
		if (this.#closed) return;
		try {
			this.#socket.write(Buffer.concat([frameHeader(0x8, 2), Buffer.from([0x03, 0xe8])]));
		} catch {
			// already gone
		}
		this.#socket.end();
		setTimeout(() => this.#socket.destroy(), 1000).unref();
	}

	destroy(): void {
		this.#socket.destroy();
	}

	#onData(chunk: Buffer): void {
		this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
		// What the handlers send in answer leaves in one write.
		this.#socket.cork();
		try {
			this.#parseFrames();
		} finally {
			this.#socket.uncork();
		}
	}

	#parseFrames(): void {
		for (;;) {
			const buffer = this.#buffer;

			if (buffer.length < 2) return;

			const fin = (buffer[0]! & 0x80) !== 0;
			const opcode = buffer[0]! & 0x0f;
			const masked = (buffer[1]! & 0x80) !== 0;
			let length = buffer[1]! & 0x7f;
			let offset = 2;

			if (length === 126) {
				if (buffer.length < 4) return;
				length = buffer.readUInt16BE(2);
				offset = 4;
			} else if (length === 127) {
				if (buffer.length < 10) return;
				length = Number(buffer.readBigUInt64BE(2));
				offset = 10;
			}
			if (masked) offset += 4;
			if (buffer.length < offset + length) return;

			let payload = buffer.subarray(offset, offset + length);

			if (masked) {
				const mask = buffer.subarray(offset - 4, offset);

				payload = Buffer.from(payload);
				for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
			}
			this.#buffer = buffer.subarray(offset + length);
			this.#onFrame(fin, opcode, payload);
		}
	}

	#onFrame(fin: boolean, opcode: number, payload: Buffer): void {
		switch (opcode) {
			case 0x0:
			case 0x1:
				this.#fragments.push(Buffer.from(payload));
				if (fin) {
					const text = this.#fragments.length === 1 ? this.#fragments[0]!.toString() : Buffer.concat(this.#fragments).toString();

					this.#fragments = [];
					this.#onText(text);
				}
				break;
			case 0x8:
				this.#socket.end();
				break;
			case 0x9:
				// ping: answer with a pong carrying the same payload
				this.#socket.write(Buffer.concat([frameHeader(0xa, payload.length), payload]));
				break;
			default:
				break;
		}
	}

	#onText(text: string): void {
		if (text.startsWith(RESPONSE_PREFIX)) {
			const idEnd = text.indexOf(',', RESPONSE_PREFIX.length);
			const id = Number(text.slice(RESPONSE_PREFIX.length, idEnd));
			const ok = text.startsWith('"ok":true', idEnd + 1);
			const pending = this.#pending.get(id);

			if (pending) {
				this.#pending.delete(id);

				const message = JSON.parse(text) as { data?: unknown; errorCode?: number; errorReason?: string };

				if (ok) pending.resolve(message.data);
				else pending.reject(Object.assign(new Error(message.errorReason ?? 'request failed'), { code: message.errorCode }));

				return;
			}
			this.onResponse?.(id, ok, text);

			return;
		}
		this.notifications++;
		this.onNotification?.(text);
	}
}
