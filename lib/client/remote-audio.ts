// Plays every remote audio track through one <audio> element: Chromium mixes
// every audio track of its stream, and one output stream per page costs much
// less than one per remote peer (a seven-peer call on two cores notices).

import { el } from './dom.js';

export class RemoteAudio {
	readonly #stream = new MediaStream();
	#element: HTMLAudioElement | undefined;

	add(track: MediaStreamTrack): void {
		if (this.#stream.getTrackById(track.id)) return;
		this.#stream.addTrack(track);
		if (!this.#element) {
			this.#element = el('audio');
			this.#element.id = 'remote-audio';
			this.#element.autoplay = true;
			this.#element.srcObject = this.#stream;
			document.body.append(this.#element);
		}
		void this.#element.play().catch(() => undefined);
	}

	/** Keeps exactly `tracks` playing. */
	sync(tracks: MediaStreamTrack[]): void {
		const live = new Set(tracks);

		for (const track of this.#stream.getAudioTracks()) if (!live.has(track)) this.#stream.removeTrack(track);
		for (const track of tracks) this.add(track);
	}
}
