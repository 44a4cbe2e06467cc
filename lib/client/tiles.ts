// The call's tiles: one per person (ours first), in a grid that fits 1-7, and
// a stage above them for screen shares. A tile shows the camera (or the
// person's initials when it is off), the name, a muted icon while the
// microphone is paused or absent, a connection-quality dot and, for the
// active speaker, an outline.
//
// The outline follows the server's activeSpeaker notification, the dot its
// consumerScore, and each camera tile shows the simulcast layer it receives
// (data-layer) and asks the server for no more than its size needs.

import type { ClientState } from './api.js';
import type { CallClient } from './CallClient.js';
import { el, initials, setAttr, setText, showTrack, videoElement } from './dom.js';

/** mediasoup's consumer score: 10 is perfect, 0 is nothing arriving. */
export type Score = number;

const MUTED_ICON =
	'<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/><path stroke="currentColor" stroke-width="2" d="M4 4l16 16"/></svg>';

/** The spatial layer a video tile this wide needs (layers are 1/4, 1/2 and full resolution). */
function layerFor(width: number): number {
	return width <= 240 ? 0 : width <= 480 ? 1 : 2;
}

interface PersonTile {
	tile: HTMLElement;
	video: HTMLVideoElement;
	avatar: HTMLElement;
	name: HTMLElement;
	dot: HTMLElement;
	/** Consumers of this person's streams (for the quality dot). */
	consumerIds: Set<string>;
}

function quality(score: Score | undefined): string {
	if (score === undefined) return 'unknown';

	return score >= 7 ? 'good' : score >= 4 ? 'fair' : 'poor';
}

export class Tiles {
	readonly #root: HTMLElement;
	readonly #grid: HTMLElement;
	readonly #stage: HTMLElement;
	/** By peer id; ours under SELF. */
	readonly #people = new Map<string, PersonTile>();
	/** Screen shares on the stage, by consumer id (ours: SELF). */
	readonly #screens = new Map<string, HTMLElement>();
	readonly #scores = new Map<string, Score>();
	/** The spatial layer asked of the server, by consumer id. */
	readonly #asked = new Map<string, number>();
	#speaker: string | null = null;

	static readonly SELF = 'self';

	constructor(root: HTMLElement, grid: HTMLElement, stage: HTMLElement) {
		this.#root = root;
		this.#grid = grid;
		this.#stage = stage;
	}

	/** Brings the tiles in line with the call's state. */
	render(call: CallClient, state: ClientState): void {
		const self = this.#person(Tiles.SELF, state.displayName);

		self.tile.classList.add('self');
		setText(self.name, state.displayName);
		this.#show(self, call.localTrack('camera'), !state.sending.camera, !state.sending.mic);

		const consumers = [...call.consumers];
		const present = new Set([Tiles.SELF]);

		for (const peer of state.peers) {
			const person = this.#person(peer.peerId, peer.displayName);
			const mic = peer.producers.find((p) => p.source === 'mic');
			const camera = peer.producers.find((p) => p.source === 'camera');
			const cameraConsumer = consumers.find((c) => c.peerId === peer.peerId && c.source === 'camera');

			present.add(peer.peerId);
			setText(person.name, peer.displayName);
			person.consumerIds = new Set(consumers.filter((c) => c.peerId === peer.peerId).map((c) => c.consumer.id));
			setAttr(person.video, 'data-consumer-id', cameraConsumer?.consumer.id);
			this.#show(person, cameraConsumer?.consumer.track, !camera || camera.paused || !cameraConsumer, !mic || mic.paused);
			setAttr(person.tile, 'data-layer', cameraConsumer?.layers === undefined ? undefined : String(cameraConsumer.layers?.spatialLayer ?? 'none'));
			for (const c of consumers) if (c.peerId === peer.peerId && c.score) this.#scores.set(c.consumer.id, c.score.score);
			this.#paintQuality(person);
			// Only layered consumers (simulcast, SVC) report layers; a single stream has none to choose.
			if (cameraConsumer?.layers !== undefined && person.tile.clientWidth > 0) this.#askLayer(call, cameraConsumer.consumer.id, layerFor(person.tile.clientWidth));
		}
		this.setActiveSpeaker(state.activeSpeaker);
		for (const [peerId, person] of this.#people) {
			if (present.has(peerId)) continue;
			person.video.srcObject = null;
			person.tile.remove();
			this.#people.delete(peerId);
		}

		const screens = new Map<string, { track: MediaStreamTrack; label: string }>();
		const ownScreen = call.localTrack('screen');

		if (ownScreen && ownScreen.readyState === 'live') screens.set(Tiles.SELF, { track: ownScreen, label: 'Your screen' });
		for (const entry of consumers) {
			if (entry.source === 'screen') screens.set(entry.consumer.id, { track: entry.consumer.track, label: `${call.remotePeerName(entry.peerId)}'s screen` });
		}
		this.#renderScreens(screens);
		setAttr(this.#grid, 'data-count', String(this.#people.size));
		this.#root.classList.toggle('staged', this.#screens.size > 0);
	}

	#askLayer(call: CallClient, consumerId: string, spatialLayer: number): void {
		if (this.#asked.get(consumerId) === spatialLayer) return;
		this.#asked.set(consumerId, spatialLayer);
		call.setPreferredLayers(consumerId, spatialLayer).catch(() => this.#asked.delete(consumerId));
	}

	/** The active speaker's tile is outlined (null: nobody speaks). */
	private setActiveSpeaker(peerId: string | null): void {
		if (peerId === this.#speaker) return;
		this.#speaker = peerId;
		for (const [id, person] of this.#people) person.tile.classList.toggle('speaking', id === peerId);
	}

	#paintQuality(person: PersonTile): void {
		const scores = [...person.consumerIds].map((id) => this.#scores.get(id)).filter((s) => s !== undefined);
		const level = quality(scores.length ? Math.min(...scores) : undefined);

		setAttr(person.dot, 'data-quality', level);
		setAttr(person.dot, 'title', `connection: ${level}`);
	}

	#person(peerId: string, name: string): PersonTile {
		const existing = this.#people.get(peerId);

		if (existing) return existing;

		const tile = el('figure', 'tile');
		const video = videoElement();
		const avatar = el('div', 'avatar', initials(name));
		const caption = el('figcaption');
		const nameLabel = el('span', 'name', name);
		const muted = el('span', 'muted-icon');
		const dot = el('span', 'dot');

		muted.innerHTML = MUTED_ICON;
		muted.setAttribute('role', 'img');
		muted.setAttribute('aria-label', 'muted');
		dot.dataset.quality = 'unknown';
		if (peerId === Tiles.SELF) dot.hidden = true;
		tile.dataset.peerId = peerId;
		caption.append(dot, nameLabel, muted);
		tile.append(video, avatar, caption);
		this.#grid.append(tile);

		const person = { tile, video, avatar, name: nameLabel, dot, consumerIds: new Set<string>() };

		this.#people.set(peerId, person);

		return person;
	}

	#show(person: PersonTile, track: MediaStreamTrack | undefined, cameraOff: boolean, muted: boolean): void {
		showTrack(person.video, cameraOff ? undefined : track);
		setAttr(person.tile, 'data-camera', cameraOff ? 'off' : 'on');
		setAttr(person.tile, 'data-muted', String(muted));
		setText(person.avatar, initials(person.name.textContent ?? ''));
		setAttr(person.tile, 'aria-label', `${person.name.textContent ?? ''}${person.tile.classList.contains('self') ? ' (you)' : ''}${muted ? ', muted' : ''}${cameraOff ? ', camera off' : ''}`);
	}

	#renderScreens(screens: Map<string, { track: MediaStreamTrack; label: string }>): void {
		for (const [id, tile] of this.#screens) {
			if (screens.has(id)) continue;
			tile.querySelector('video')!.srcObject = null;
			tile.remove();
			this.#screens.delete(id);
		}
		for (const [id, { track, label }] of screens) {
			let tile = this.#screens.get(id);

			if (!tile) {
				tile = el('figure', 'tile screen');
				if (id !== Tiles.SELF) tile.dataset.consumerId = id;
				tile.append(videoElement(), el('figcaption', '', label));
				this.#stage.append(tile);
				this.#screens.set(id, tile);
			}
			showTrack(tile.querySelector('video')!, track);
		}
	}
}
