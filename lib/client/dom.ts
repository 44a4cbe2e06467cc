// The few DOM helpers the page's parts share.

/** The element `selector` names; the page is broken without it. */
export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
	const element = document.querySelector<T>(selector);

	if (!element) throw new Error(`missing ${selector}`);

	return element;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);

	if (className) element.className = className;
	if (text) element.textContent = text;

	return element;
}

// Render runs on every change of the call: writing only what differs spares
// the page style and layout work while the videos play.

/** Sets (or, with undefined, removes) an attribute unless it already has that value. */
export function setAttr(element: Element, name: string, value: string | undefined): void {
	if (value === undefined) element.removeAttribute(name);
	else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

export function setText(element: Element, text: string): void {
	if (element.textContent !== text) element.textContent = text;
}

/** Shows `track` in `video` (muted: audio plays elsewhere); nothing when it already does. */
export function showTrack(video: HTMLVideoElement, track: MediaStreamTrack | undefined): void {
	const current = (video.srcObject as MediaStream | null)?.getTracks()[0];

	if (current === track) return;
	video.srcObject = track ? new MediaStream([track]) : null;
	if (track) void video.play().catch(() => undefined);
}

/** A <video> for a tile or a preview: inline, muted, playing by itself. */
export function videoElement(className = ''): HTMLVideoElement {
	const video = el('video', className);

	video.autoplay = true;
	video.playsInline = true;
	video.muted = true;

	return video;
}

/** Two-letter initials for a tile whose camera is off. */
export function initials(name: string): string {
	const words = name.trim().split(/\s+/).filter(Boolean);

	return (words.length > 1 ? words[0]!.charAt(0) + words[1]!.charAt(0) : name.slice(0, 2)).toUpperCase() || '?';
}

/** "14:05", the time a chat message was sent or received. */
export function clock(at: number): string {
	return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Fills a device picker with the devices of `kind`, selecting the one `current` uses (labels are known once a device was granted). */
export function fillDevicePicker(select: HTMLSelectElement, devices: MediaDeviceInfo[], kind: MediaDeviceKind, current: MediaStreamTrack | undefined): void {
	const inUse = current?.getSettings().deviceId;
	const options = devices
		.filter((d) => d.kind === kind && d.deviceId)
		.map((d, i) => {
			const option = el('option', '', d.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}`);

			option.value = d.deviceId;
			option.selected = d.deviceId === inUse;

			return option;
		});

	select.replaceChildren(...options);
	select.disabled = options.length === 0;
}
