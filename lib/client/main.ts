// The page: reads the URL parameters, joins the call, shows who is in the
// room, every remote video with a live line of figures, and exposes the call
// to test drivers as window.vcall.
//
// URL parameters:
//   server  ws(s):// URL of the vcall server (default: /config.json's serverUrl,
//           else ws(s)://<this host>:3000/); another origin than those only
//           after the user confirms (server-url.ts)
//   room    room id to join, or 'create'; when present the page joins at once
//   name    display name
//   w, h, fps   camera capture (default 640x480 at 30)
//   audio, video  0 to send no microphone / no camera
//   maxKbps  cap on the camera bitrate
//   tcp=1   ICE over TCP only
//   relay=1  media only through the TURN servers the server hands out (iceTransportPolicy 'relay')
//   leave=0  do not send leaveRoom when the tab is closed
//   dtlsRole=server  the browser takes the DTLS server role (default: client)
//   tile=N   width in px of the remote video tiles (default 320: at least)
//   figures=N  refresh the figures every N ms (default 1000; 0: never)
//   audioProcessing=0  no echo cancellation, noise suppression, gain control

import { CallClient, type CallOptions, type ConsumerEntry } from './CallClient.js';
import type { StatsSnapshot, VcallApi } from './api.js';
import { resolveServerUrl } from './server-url.js';
import { collectStats, formatFigures, inboundFigures, outboundFigures } from './stats.js';

declare global {
	interface Window {
		vcall: VcallApi;
	}
}

const params = new URLSearchParams(location.search);

function intParam(name: string, fallback: number): number {
	const value = Number.parseInt(params.get(name) ?? '', 10);

	return Number.isFinite(value) && value >= 0 ? value : fallback;
}

function flag(name: string, fallback: boolean): boolean {
	const value = params.get(name);

	return value === null ? fallback : !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

function $(selector: string): HTMLElement {
	const element = document.querySelector<HTMLElement>(selector);

	if (!element) throw new Error(`missing ${selector}`);

	return element;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);

	if (className) element.className = className;
	if (text) element.textContent = text;

	return element;
}

// ---- window.vcall: usable before the call starts (state() says 'idle') ----

let client: CallClient | undefined;
const idleState = (): ReturnType<VcallApi['state']> => ({
	phase: 'idle',
	connection: 'connecting',
	serverUrl: '',
	roomId: undefined,
	peerId: undefined,
	displayName: '',
	peers: [],
	producers: [],
	consumers: [],
	closedConsumers: [],
	transports: [],
	events: [],
	disconnects: 0,
	rejoins: 0,
	errors: [],
	chat: [],
	activeSpeaker: null
});

function need(): CallClient {
	if (!client) throw new Error('not in a call');

	return client;
}

window.vcall = {
	state: () => client?.state() ?? idleState(),
	stats: async () => (client ? collectStats(client) : { at: Date.now(), outbound: [], inbound: [], transports: [] }),
	startScreenShare: (method) => need().startScreenShare(method),
	stopScreenShare: () => need().stopScreenShare(),
	dropWebSocket: (downMs) => need().dropWebSocket(downMs),
	leave: () => need().leave(),
	sendChat: (text) => need().sendChat(text),
	setPreferredLayers: (consumerId, spatialLayer, temporalLayer) => need().setPreferredLayers(consumerId, spatialLayer, temporalLayer),
	whenJoined: (timeoutMs) => need().whenJoined(timeoutMs)
};

// ---- The page ----

const tiles = new Map<string, { tile: HTMLElement; figures: HTMLElement; media: HTMLMediaElement | undefined; track: MediaStreamTrack }>();
let lastStats: StatsSnapshot | undefined;

/**
 * All remote audio plays through one <audio> element: Chromium mixes every
 * audio track of its stream, and one output stream per page costs much less
 * than one per remote peer (a seven-peer call on two cores notices).
 */
const remoteAudio = new MediaStream();
let remoteAudioElement: HTMLAudioElement | undefined;

function playRemoteAudio(track: MediaStreamTrack): void {
	remoteAudio.addTrack(track);
	if (!remoteAudioElement) {
		remoteAudioElement = el('audio');
		remoteAudioElement.id = 'remote-audio';
		remoteAudioElement.autoplay = true;
		remoteAudioElement.srcObject = remoteAudio;
		document.body.append(remoteAudioElement);
	}
	void remoteAudioElement.play().catch(() => undefined);
}

function renderPeople(call: CallClient): void {
	const state = call.state();
	const list = $('#people');

	list.replaceChildren(
		el('li', 'me', `${state.displayName} (you)`),
		...state.peers.map((peer) => {
			const kinds = peer.producers.map((p) => p.source + (p.paused ? ' (paused)' : '')).join(', ');

			return el('li', '', `${peer.displayName}${kinds ? ` — ${kinds}` : ''}`);
		})
	);
	$('#status').textContent = `${state.phase} · signaling ${state.connection}${state.roomId ? ` · room ${state.roomId}` : ''}`;
	($('#share') as HTMLButtonElement).disabled = state.phase !== 'joined' || state.producers.some((p) => p.source === 'screen');
	($('#unshare') as HTMLButtonElement).disabled = !state.producers.some((p) => p.source === 'screen');
	($('#leave') as HTMLButtonElement).disabled = state.phase === 'left' || state.phase === 'closed';
	if (state.roomId) {
		const invite = new URL(location.href);

		invite.search = '';
		invite.searchParams.set('server', state.serverUrl);
		invite.searchParams.set('room', state.roomId);
		($('#invite') as HTMLAnchorElement).href = invite.toString();
		$('#invite').hidden = false;
	}
}

function addConsumerTile(call: CallClient, entry: ConsumerEntry): void {
	const { consumer } = entry;

	if (tiles.has(consumer.id)) return;

	const isVideo = consumer.kind === 'video';
	const tile = el('figure', `tile ${consumer.kind} ${entry.source}`);
	const caption = el('figcaption');
	const figures = el('div', 'figures', '…');
	let media: HTMLVideoElement | undefined;

	caption.append(el('span', 'name', call.remotePeerName(entry.peerId)), el('span', 'source', entry.source), figures);
	tile.dataset.consumerId = consumer.id;
	tile.dataset.peerId = entry.peerId;
	if (isVideo) {
		media = el('video');
		media.autoplay = true;
		media.playsInline = true;
		media.muted = true;
		media.srcObject = new MediaStream([consumer.track]);
		tile.append(media);
		void media.play().catch(() => undefined);
	} else {
		playRemoteAudio(consumer.track);
	}
	tile.append(caption);
	(isVideo ? $('#videos') : $('#audios')).append(tile);
	tiles.set(consumer.id, { tile, figures, media, track: consumer.track });
}

function removeConsumerTile(consumerId: string): void {
	const entry = tiles.get(consumerId);

	if (!entry) return;
	if (entry.media) entry.media.srcObject = null;
	else remoteAudio.removeTrack(entry.track);
	entry.tile.remove();
	tiles.delete(consumerId);
}

function syncTiles(call: CallClient): void {
	const live = new Set<string>();

	for (const entry of call.consumers) {
		live.add(entry.consumer.id);
		addConsumerTile(call, entry);
	}
	for (const id of [...tiles.keys()]) if (!live.has(id)) removeConsumerTile(id);
	markLayers(call);
}

/** The active speaker's tiles get a class; each video tile shows the spatial layer it receives (data-layer). */
function markLayers(call: CallClient): void {
	const speaker = call.activeSpeaker;

	for (const entry of call.consumers) {
		const tile = tiles.get(entry.consumer.id)?.tile;

		if (!tile) continue;
		tile.classList.toggle('speaking', entry.peerId === speaker);
		if (entry.layers !== undefined) tile.dataset.layer = entry.layers === null ? 'none' : String(entry.layers.spatialLayer);
	}
}

function showLocalPreview(call: CallClient): void {
	const camera = call.localTrack('camera');
	const preview = $('#local') as HTMLVideoElement;

	if (camera && !preview.srcObject) {
		preview.srcObject = new MediaStream([camera]);
		void preview.play().catch(() => undefined);
	}
}

async function refreshFigures(call: CallClient): Promise<void> {
	const now = await collectStats(call);
	const before = lastStats;

	lastStats = now;
	for (const inbound of now.inbound) {
		const tile = tiles.get(inbound.consumerId);

		if (!tile) continue;

		const previous = before?.inbound.find((s) => s.consumerId === inbound.consumerId);

		tile.figures.textContent = formatFigures(inbound.kind, inboundFigures(inbound, previous));
	}

	const outgoing = now.outbound.map((outbound) => {
		const previous = before?.outbound.find((s) => s.producerId === outbound.producerId);

		return `${outbound.source}: ${formatFigures(outbound.kind, outboundFigures(outbound, previous))}`;
	});

	// The selected candidate pairs: relay (TURN), host, srflx/prflx (through a NAT), udp or tcp.
	const paths = now.transports
		.filter((t) => t.localCandidate && t.remoteCandidate)
		.map((t) => `${t.direction} path: ${t.localCandidate!.protocol} ${t.localCandidate!.candidateType} -> ${t.remoteCandidate!.address}:${t.remoteCandidate!.port}`);

	$('#outgoing').textContent = [...outgoing, ...paths].join('\n');
}

async function join(options: CallOptions): Promise<void> {
	const call = new CallClient(options);

	client = call;
	$('#join-form').hidden = true;
	$('#call').hidden = false;
	call.addEventListener('change', () => {
		renderPeople(call);
		syncTiles(call);
	});
	call.addEventListener('localmedia', () => showLocalPreview(call));
	const figuresMs = intParam('figures', 1000);

	if (figuresMs > 0) setInterval(() => void refreshFigures(call).catch(() => undefined), Math.max(250, figuresMs));
	try {
		await call.start();
	} catch (error) {
		$('#status').textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
	}
}

async function main(): Promise<void> {
	const serverUrl = await resolveServerUrl(params.get('server'));
	const room = params.get('room');
	const options = (overrides: Partial<CallOptions>): CallOptions => ({
		serverUrl,
		room: room ?? 'create',
		displayName: params.get('name') ?? `guest-${Math.floor(Math.random() * 1000)}`,
		audio: flag('audio', true),
		video: flag('video', true),
		width: intParam('w', 640),
		height: intParam('h', 480),
		frameRate: intParam('fps', 30),
		maxVideoKbps: intParam('maxKbps', 0),
		forceTcp: flag('tcp', false),
		iceTransportPolicy: flag('relay', false) ? 'relay' : 'all',
		audioProcessing: flag('audioProcessing', true),
		leaveOnUnload: flag('leave', true),
		dtlsRole: (['client', 'server'] as const).find((r) => r === params.get('dtlsRole')) ?? 'auto',
		...overrides
	});

	$('#share').addEventListener('click', () => {
		// Called straight from the click: getDisplayMedia needs the user gesture.
		need()
			.startScreenShare('auto')
			.catch((error: unknown) => ($('#status').textContent = `screen share failed: ${String(error)}`));
	});
	$('#unshare').addEventListener('click', () => void need().stopScreenShare());
	$('#leave').addEventListener('click', () => void need().leave());

	const form = $('#join-form') as HTMLFormElement;
	const serverInput = form.elements.namedItem('server') as HTMLInputElement;
	const roomInput = form.elements.namedItem('room') as HTMLInputElement;
	const nameInput = form.elements.namedItem('name') as HTMLInputElement;

	serverInput.value = serverUrl;
	roomInput.value = room ?? '';
	nameInput.value = params.get('name') ?? '';
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		void join(
			options({
				serverUrl: serverInput.value.trim(),
				room: roomInput.value.trim() || 'create',
				displayName: nameInput.value.trim() || `guest-${Math.floor(Math.random() * 1000)}`
			})
		);
	});

	const tile = intParam('tile', 0);

	if (tile > 0) {
		document.documentElement.style.setProperty('--tile', `${tile}px`);
		document.documentElement.classList.add('compact');
	}
	if (room) await join(options({}));
	else form.hidden = false;
}

void main();
