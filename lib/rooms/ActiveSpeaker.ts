// Who is speaking in a room: mediasoup's ActiveSpeakerObserver picks the
// dominant speaker among the audio producers; an AudioLevelObserver on the
// same producers tells when everyone is silent (the dominant-speaker
// observer never says so), which makes the speaker null until someone speaks.

import { EventEmitter } from 'node:events';
import debugFactory from 'debug';
import type * as ms from 'mediasoup/types';
import type { ProducerAppData } from './Peer.js';

const debug = debugFactory('vcall:speaker');

/** How often the dominant speaker is re-evaluated (ms). */
const SPEAKER_INTERVAL_MS = 300;
/** Audio quieter than this (dBov) over a whole interval counts as silence. */
const SILENCE_THRESHOLD_DBOV = -60;
const SILENCE_INTERVAL_MS = 1000;

export interface ActiveSpeakerEvents {
	/** The speaker changed (null: silence). */
	speaker: [peerId: string | null];
}

export class ActiveSpeaker extends EventEmitter<ActiveSpeakerEvents> {
	readonly #dominant: ms.ActiveSpeakerObserver;
	readonly #levels: ms.AudioLevelObserver;
	/** The observer's latest pick, kept through a silence: it does not announce the same speaker twice. */
	#dominantPeer: string | null = null;
	#silent = true;
	#speaker: string | null = null;
	#closed = false;

	static async create(router: ms.Router): Promise<ActiveSpeaker> {
		const [dominant, levels] = await Promise.all([
			router.createActiveSpeakerObserver({ interval: SPEAKER_INTERVAL_MS }),
			router.createAudioLevelObserver({ maxEntries: 1, threshold: SILENCE_THRESHOLD_DBOV, interval: SILENCE_INTERVAL_MS })
		]);

		return new ActiveSpeaker(dominant, levels);
	}

	private constructor(dominant: ms.ActiveSpeakerObserver, levels: ms.AudioLevelObserver) {
		super();
		this.#dominant = dominant;
		this.#levels = levels;
		dominant.on('dominantspeaker', ({ producer }) => {
			this.#dominantPeer = (producer.appData as ProducerAppData).peerId;
			this.#silent = false;
			this.#update();
		});
		levels.on('volumes', (volumes) => {
			this.#silent = false;
			// Speech after a silence: the observer may still hold the same pick and say nothing.
			this.#dominantPeer ??= (volumes[0]?.producer.appData as ProducerAppData | undefined)?.peerId ?? null;
			this.#update();
		});
		levels.on('silence', () => {
			this.#silent = true;
			this.#update();
		});
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The current speaker, or null. */
	get peerId(): string | null {
		return this.#speaker;
	}

	/** Watches an audio producer until it closes (mediasoup removes it from the observers then). */
	async add(producer: ms.Producer<ProducerAppData>): Promise<void> {
		if (this.#closed || producer.kind !== 'audio') return;
		await Promise.all([this.#dominant.addProducer({ producerId: producer.id }), this.#levels.addProducer({ producerId: producer.id })]);
	}

	/** A peer left: it is no longer the speaker. */
	peerGone(peerId: string): void {
		if (this.#dominantPeer !== peerId) return;
		this.#dominantPeer = null;
		this.#update();
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#dominant.close();
		this.#levels.close();
	}

	#update(): void {
		const speaker = this.#silent ? null : this.#dominantPeer;

		if (speaker === this.#speaker || this.#closed) return;
		this.#speaker = speaker;
		debug('speaker %s', speaker);
		this.emit('speaker', speaker);
	}
}
