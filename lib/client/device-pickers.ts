// The microphone and camera pickers of the call's settings panel: they show
// the devices the call sends from, and a change moves that source to the
// picked device (the same producer, a new track).

import type { CallClient } from './CallClient.js';
import { fillDevicePicker } from './dom.js';

export class DevicePickers {
	readonly #call: CallClient;
	readonly #mic: HTMLSelectElement;
	readonly #camera: HTMLSelectElement;

	constructor(call: CallClient, pickers: { mic: HTMLSelectElement; camera: HTMLSelectElement }, status: (text: string) => void) {
		this.#call = call;
		this.#mic = pickers.mic;
		this.#camera = pickers.camera;

		for (const [source, select] of [['mic', this.#mic], ['camera', this.#camera]] as const) {
			select.addEventListener('change', () => {
				call.switchDevice(source, select.value).catch((error: unknown) => {
					status(`${source}: ${String(error)}`);
					void this.refresh();
				});
			});
		}
		navigator.mediaDevices.addEventListener('devicechange', () => void this.refresh());
		call.addEventListener('localmedia', () => void this.refresh());
		void this.refresh();
	}

	async refresh(): Promise<void> {
		const devices = await navigator.mediaDevices.enumerateDevices();

		fillDevicePicker(this.#mic, devices, 'audioinput', this.#call.localTrack('mic'));
		fillDevicePicker(this.#camera, devices, 'videoinput', this.#call.localTrack('camera'));
	}
}
