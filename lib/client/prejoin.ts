// The pre-join screen: a name, a preview of the camera and a level meter of
// the microphone, pickers for both, and switches to join with either off.
// A source switched off is not captured (its device light goes off); the
// tracks that are on are handed to the call, which does not open the
// devices a second time.

import type { Source } from './api.js';
import { captureCamera, type CameraOptions } from './capture.js';
import { $, fillDevicePicker, showTrack } from './dom.js';

export interface PreJoinChoice {
	displayName: string;
	room: string;
	serverUrl: string;
	audio: boolean;
	video: boolean;
	audioDeviceId?: string;
	videoDeviceId?: string;
	/** The live preview tracks (the call takes them over). */
	tracks: Map<Source, MediaStreamTrack>;
}

export interface PreJoinDefaults {
	displayName: string;
	room: string;
	serverUrl: string;
}

export class PreJoin {
	readonly #capture: CameraOptions;
	readonly #form = $<HTMLFormElement>('#join-form');
	readonly #preview = $<HTMLVideoElement>('#preview');
	readonly #micSelect = $<HTMLSelectElement>('#mic-select');
	readonly #cameraSelect = $<HTMLSelectElement>('#camera-select');
	readonly #micButton = $<HTMLButtonElement>('#pre-mic');
	readonly #cameraButton = $<HTMLButtonElement>('#pre-camera');
	readonly #level = $('#mic-level');
	readonly #error = $('#prejoin-error');
	readonly #tracks = new Map<Source, MediaStreamTrack>();
	#on = { audio: true, video: true };
	#meter: { context: AudioContext; timer: number } | undefined;

	constructor(capture: CameraOptions, defaults: PreJoinDefaults) {
		this.#capture = capture;
		this.#on = { audio: capture.audio, video: capture.video };
		this.#input('name').value = defaults.displayName;
		this.#input('room').value = defaults.room === 'create' ? '' : defaults.room;
		this.#input('server').value = defaults.serverUrl;
		this.#micButton.addEventListener('click', () => void this.#toggle('audio'));
		this.#cameraButton.addEventListener('click', () => void this.#toggle('video'));
		this.#micSelect.addEventListener('change', () => void this.#restart('audio'));
		this.#cameraSelect.addEventListener('change', () => void this.#restart('video'));
	}

	/** Shows the screen and starts the preview; resolves with the choices when Join is pressed. */
	async open(): Promise<PreJoinChoice> {
		$('#prejoin').hidden = false;
		this.#input('name').focus();
		this.#paintButtons();

		const submitted = new Promise<void>((resolve) =>
			this.#form.addEventListener('submit', (event) => {
				event.preventDefault();
				resolve();
			}, { once: true })
		);

		await this.#restart('audio', 'video');
		await this.#listDevices();
		await submitted;
		this.#stopMeter();
		$('#prejoin').hidden = true;

		const name = this.#input('name').value.trim();

		return {
			displayName: name || `guest-${Math.floor(Math.random() * 1000)}`,
			room: this.#input('room').value.trim() || 'create',
			serverUrl: this.#input('server').value.trim(),
			audio: this.#on.audio,
			video: this.#on.video,
			...this.#devices(),
			tracks: new Map(this.#tracks)
		};
	}

	#input(name: string): HTMLInputElement {
		return this.#form.elements.namedItem(name) as HTMLInputElement;
	}

	async #toggle(kind: 'audio' | 'video'): Promise<void> {
		this.#on[kind] = !this.#on[kind];
		this.#paintButtons();
		await this.#restart(kind);
	}

	/** (Re)captures the sources of `kinds` that are on, with the picked device; stops those that are off. */
	/** The devices picked (none before the pickers are filled: the browser's default). */
	#devices(): { audioDeviceId?: string; videoDeviceId?: string } {
		return {
			...(this.#micSelect.value ? { audioDeviceId: this.#micSelect.value } : {}),
			...(this.#cameraSelect.value ? { videoDeviceId: this.#cameraSelect.value } : {})
		};
	}

	async #restart(...kinds: ('audio' | 'video')[]): Promise<void> {
		const wanted = { audio: false, video: false };

		for (const kind of kinds) {
			const source = kind === 'audio' ? 'mic' : 'camera';

			this.#tracks.get(source)?.stop();
			this.#tracks.delete(source);
			wanted[kind] = this.#on[kind];
		}
		if (kinds.includes('audio')) this.#stopMeter();
		// Both at once (one permission prompt); if that fails, each alone: a missing
		// camera must not cost the microphone. What cannot be had is switched off,
		// so the call does not fail on it.
		const failures: string[] = [];
		const attempts = wanted.audio && wanted.video ? [wanted, { audio: true, video: false }, { audio: false, video: true }] : [wanted];

		for (const attempt of attempts) {
			if (!attempt.audio && !attempt.video) continue;
			if ((!attempt.audio || this.#tracks.has('mic')) && (!attempt.video || this.#tracks.has('camera'))) continue;
			try {
				for (const [source, track] of await captureCamera({ ...this.#capture, ...attempt, ...this.#devices() })) this.#tracks.set(source, track);
			} catch (error) {
				failures.push(error instanceof Error ? error.message : String(error));
			}
		}
		const lost = kinds.filter((kind) => wanted[kind] && !this.#tracks.has(kind === 'audio' ? 'mic' : 'camera'));

		for (const kind of lost) this.#on[kind] = false;
		this.#paintButtons();
		this.#error.textContent = lost.length
			? `No ${lost.map((kind) => (kind === 'audio' ? 'microphone' : 'camera')).join(' or ')} (${failures.at(-1) ?? ''}): you can join without.`
			: '';
		showTrack(this.#preview, this.#tracks.get('camera'));
		$('#preview-off').hidden = this.#tracks.has('camera');

		const mic = this.#tracks.get('mic');

		if (mic && !this.#meter) this.#startMeter(mic);
	}

	/** Fills the pickers (device labels are known once a device was granted). */
	async #listDevices(): Promise<void> {
		const devices = await navigator.mediaDevices.enumerateDevices();

		fillDevicePicker(this.#micSelect, devices, 'audioinput', this.#tracks.get('mic'));
		fillDevicePicker(this.#cameraSelect, devices, 'videoinput', this.#tracks.get('camera'));
	}

	/** As the call's buttons: the label says what a press does, the colour what is off. */
	#paintButtons(): void {
		this.#micButton.dataset.off = String(!this.#on.audio);
		this.#micButton.textContent = this.#on.audio ? 'Mute' : 'Unmute';
		this.#cameraButton.dataset.off = String(!this.#on.video);
		this.#cameraButton.textContent = this.#on.video ? 'Camera off' : 'Camera on';
	}

	/** A bar that follows the microphone's level, so people see it hears them. */
	#startMeter(track: MediaStreamTrack): void {
		const context = new AudioContext();
		const analyser = context.createAnalyser();
		const samples = new Uint8Array(analyser.fftSize);

		context.createMediaStreamSource(new MediaStream([track])).connect(analyser);

		const timer = window.setInterval(() => {
			analyser.getByteTimeDomainData(samples);

			let peak = 0;

			for (const sample of samples) peak = Math.max(peak, Math.abs(sample - 128));
			this.#level.style.width = `${Math.min(100, (peak / 128) * 200).toFixed(0)}%`;
		}, 100);

		this.#meter = { context, timer };
	}

	#stopMeter(): void {
		if (!this.#meter) return;
		clearInterval(this.#meter.timer);
		void this.#meter.context.close();
		this.#meter = undefined;
		this.#level.style.width = '0';
	}
}
