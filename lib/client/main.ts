// The page: a pre-join screen (name, preview, devices), then the call
// (tiles, controls, chat, stats, the reconnecting banner) and, when it is
// over, why. It exposes the call to test drivers as window.vcall.
//
// URL parameters:
//   server  ws(s):// URL of the vcall server (default: /config.json's serverUrl,
//           else ws(s)://<this host>:3000/); another origin than those only
//           after the user confirms (server-url.ts)
//   room    room id to join (the invite link carries it); default: a new room
//   name    display name (pre-fills the pre-join screen)
//   join=1  skip the pre-join screen and join at once (scripts and tests)
//   w, h, fps   camera capture (default 640x480 at 30)
//   audio, video  0 to start with no microphone / no camera
//   maxKbps  cap on the camera bitrate
//   tcp=1   ICE over TCP only
//   relay=1  media only through the TURN servers the server hands out (iceTransportPolicy 'relay')
//   leave=0  do not send leaveRoom when the tab is closed
//   dtlsRole=server  the browser takes the DTLS server role (default: client)
//   tile=N   width in px of the tiles, which then keep that size (default: they fill the window)
//   figures=N  take getStats() every N ms for the stats panel, speaker and quality (default 1000; 0: never)
//   audioProcessing=0  no echo cancellation, noise suppression, gain control

import type { ClientState, Source, StatsSnapshot, VcallApi } from './api.js';
import { CallClient, type CallOptions } from './CallClient.js';
import { ChatPanel } from './chat-panel.js';
import { button, Controls, inviteLink } from './controls.js';
import { DevicePickers } from './device-pickers.js';
import { $, setText } from './dom.js';
import { PreJoin } from './prejoin.js';
import { RemoteAudio } from './remote-audio.js';
import { resolveServerUrl } from './server-url.js';
import { collectStats } from './stats.js';
import { StatsPanel } from './stats-panel.js';
import { Tiles } from './tiles.js';

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

// ---- window.vcall: usable before the call starts (state() says 'idle') ----

let client: CallClient | undefined;
const idleState = (): ReturnType<VcallApi['state']> => ({
	phase: 'idle',
	connection: 'connecting',
	serverUrl: '',
	roomId: undefined,
	peerId: undefined,
	displayName: '',
	sending: { mic: false, camera: false },
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
	setSourceEnabled: (source, enabled) => need().setSourceEnabled(source, enabled),
	switchDevice: (source, deviceId) => need().switchDevice(source, deviceId),
	setPreferredLayers: (consumerId, spatialLayer, temporalLayer) => need().setPreferredLayers(consumerId, spatialLayer, temporalLayer),
	whenJoined: (timeoutMs) => need().whenJoined(timeoutMs)
};

// ---- The call ----

/** The reconnecting banner: from a drop until we are back in the room and every transport is connected. */
function reconnecting(state: ClientState): boolean {
	if (state.disconnects === 0 || !['joined', 'rejoining', 'joining', 'connecting'].includes(state.phase)) return false;

	return state.phase !== 'joined' || state.connection !== 'open' || state.transports.some((t) => t.connectionState !== 'connected');
}

function showEnded(state: ClientState): void {
	const titles: Partial<Record<typeof state.phase, string>> = {
		left: 'You left the call',
		closed: 'The call has ended',
		failed: 'Could not join the call'
	};
	const title = titles[state.phase];

	if (!title) return;
	$('#call').hidden = true;
	$('#ended').hidden = false;
	$('#ended-title').textContent = title;
	$('#ended-reason').textContent = state.phase === 'left' ? '' : (state.endReason ?? state.errors.at(-1) ?? '');

	const again = $<HTMLAnchorElement>('#rejoin');

	if (state.roomId) again.href = inviteLink(state.serverUrl, state.roomId);
	else again.href = location.pathname;
}

function startFigures(call: CallClient, panel: StatsPanel): void {
	const everyMs = intParam('figures', 1000);
	let last: StatsSnapshot | undefined;

	if (everyMs <= 0) return;

	const timer = setInterval(() => {
		if (call.phase === 'left' || call.phase === 'closed' || call.phase === 'failed') return clearInterval(timer);
		void collectStats(call)
			.then((now) => {
				panel.update(now, last);
				last = now;
			})
			.catch(() => undefined);
	}, Math.max(250, everyMs));
}

async function join(options: CallOptions, preview?: Map<Source, MediaStreamTrack>): Promise<void> {
	const call = new CallClient(options, preview);
	const tiles = new Tiles($('#call'), $('#grid'), $('#stage'));
	const audio = new RemoteAudio();
	const chat = new ChatPanel(call, {
		panel: $('#chat-panel'),
		log: $('#chat-log'),
		form: $<HTMLFormElement>('#chat-form'),
		input: $<HTMLInputElement>('#chat-text'),
		toggle: button('chat-toggle'),
		unread: $('#chat-unread'),
		error: $('#chat-error')
	});
	const stats = new StatsPanel(call, $('#stats-panel'), $('#stats-text'), button('stats-toggle'));
	const controls = new Controls(call, { chat, stats });

	new DevicePickers(call, { mic: $<HTMLSelectElement>('#call-mic-select'), camera: $<HTMLSelectElement>('#call-camera-select') }, (text) => setText($('#notice'), text));

	client = call;
	$('#call').hidden = false;

	const render = (): void => {
		const state = call.state();

		tiles.render(call, state);
		audio.sync([...call.consumers].filter((c) => c.consumer.kind === 'audio').map((c) => c.consumer.track));
		controls.render(state);
		$('#banner').hidden = !reconnecting(state);
		setText($('#status'), state.phase === 'joined' ? `${state.peers.length + 1} in the call` : state.phase);
		showEnded(state);
	};

	call.addEventListener('change', render);
	call.addEventListener('localmedia', render);
	render();
	startFigures(call, stats);
	try {
		await call.start();
	} catch (error) {
		$('#notice').textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
	}
}

async function main(): Promise<void> {
	const serverUrl = await resolveServerUrl(params.get('server'));
	const options: CallOptions = {
		serverUrl,
		room: params.get('room') ?? 'create',
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
		dtlsRole: (['client', 'server'] as const).find((r) => r === params.get('dtlsRole')) ?? 'auto'
	};
	const tile = intParam('tile', 0);

	if (tile > 0) {
		document.documentElement.style.setProperty('--tile', `${tile}px`);
		document.documentElement.classList.add('compact');
	}
	if (flag('join', false)) return join(options);

	const { tracks, ...choice } = await new PreJoin(options, { displayName: params.get('name') ?? '', room: options.room, serverUrl }).open();

	// A server typed on the pre-join screen goes through the same check as a link's.
	const chosen = choice.serverUrl && choice.serverUrl !== serverUrl ? await resolveServerUrl(choice.serverUrl) : serverUrl;

	await join({ ...options, ...choice, serverUrl: chosen }, tracks);
}

void main();
