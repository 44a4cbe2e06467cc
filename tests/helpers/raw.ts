// A raw protoo speaker over ws, to send what protoo-client never would
// (malformed frames, concurrent joins, floods).

import WebSocket from 'ws';

export class RawClient {
	readonly ws: WebSocket;
	readonly messages: any[] = [];
	readonly closed: Promise<{ code: number; reason: string }>;
	#nextId = 1;
	#waiters: { match: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];

	static async open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
		const client = new RawClient(url, headers);

		await new Promise((resolve, reject) => {
			client.ws.once('open', resolve);
			client.ws.once('error', reject);
		});

		return client;
	}

	private constructor(url: string, headers: Record<string, string>) {
		this.ws = new WebSocket(url, 'protoo', { headers });
		this.ws.on('message', (data) => {
			const message = JSON.parse(String(data));

			this.messages.push(message);
			this.#waiters = this.#waiters.filter((w) => !(w.match(message) && (w.resolve(message), true)));
		});
		this.closed = new Promise((resolve) =>
			this.ws.once('close', (code, reason) => {
				for (const w of this.#waiters.splice(0)) w.reject(new Error('closed before the expected message'));
				resolve({ code, reason: String(reason) });
			})
		);
	}

	/** Sends a request and resolves with its response. */
	request(method: string, data: unknown): Promise<any> {
		const id = this.#nextId++;

		this.ws.send(JSON.stringify({ request: true, id, method, data }));

		return this.next((m) => m.response === true && m.id === id);
	}

	next(match: (m: any) => boolean): Promise<any> {
		const seen = this.messages.find(match);

		if (seen) return Promise.resolve(seen);
		if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('closed before the expected message'));

		return new Promise((resolve, reject) => this.#waiters.push({ match, resolve, reject }));
	}
}

