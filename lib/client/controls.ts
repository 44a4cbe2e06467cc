// The control bar: mute, camera, screen share, the side panels, the invite
// link and leave. Each button acts on the call; render() shows what is on.

import type { ClientState } from './api.js';
import type { CallClient } from './CallClient.js';
import type { ChatPanel } from './chat-panel.js';
import { $, setAttr, setText } from './dom.js';
import type { StatsPanel } from './stats-panel.js';

/** The link that brings someone to this room's pre-join screen. */
export function inviteLink(serverUrl: string, roomId: string): string {
	const invite = new URL(location.href);

	invite.search = '';
	invite.searchParams.set('server', serverUrl);
	invite.searchParams.set('room', roomId);

	return invite.toString();
}

export function button(id: string): HTMLButtonElement {
	return $<HTMLButtonElement>(`#${id}`);
}

/** The control bar: each button acts on the call; render() shows what is on. */
export class Controls {
	readonly #call: CallClient;

	constructor(call: CallClient, panels: { chat: ChatPanel; stats: StatsPanel }) {
		this.#call = call;
		button('mute').addEventListener('click', () => this.#toggle('mic'));
		button('camera').addEventListener('click', () => this.#toggle('camera'));
		button('share').addEventListener('click', () => {
			// Called straight from the click: getDisplayMedia needs the user gesture.
			call.startScreenShare('auto').catch((error: unknown) => this.#status(`screen share failed: ${String(error)}`));
		});
		button('unshare').addEventListener('click', () => void call.stopScreenShare());
		// One side panel at a time.
		button('chat-toggle').addEventListener('click', () => {
			panels.stats.setOpen(false);
			panels.chat.setOpen(!panels.chat.open);
		});
		button('stats-toggle').addEventListener('click', () => {
			panels.chat.setOpen(false);
			panels.stats.setOpen(!panels.stats.open);
		});
		button('invite').addEventListener('click', () => void this.#copyInvite());
		button('leave').addEventListener('click', () => void call.leave());
		document.addEventListener('keydown', (event) => {
			if (event.key !== 'Escape') return;
			panels.chat.setOpen(false);
			panels.stats.setOpen(false);
		});
	}

	render(state: ClientState): void {
		const joined = state.phase === 'joined';
		const sharing = state.producers.some((p) => p.source === 'screen');

		this.#paint('mute', state.sending.mic, 'Mute', 'Unmute', joined);
		this.#paint('camera', state.sending.camera, 'Camera off', 'Camera on', joined);
		button('share').hidden = sharing;
		button('share').disabled = !joined;
		button('unshare').hidden = !sharing;
		button('invite').disabled = !state.roomId;
		button('leave').disabled = state.phase === 'left' || state.phase === 'closed';
	}

	#paint(id: string, on: boolean, labelOn: string, labelOff: string, enabled: boolean): void {
		const b = button(id);

		setText(b, on ? labelOn : labelOff);
		// The label says what a press does; the colour says what is off.
		setAttr(b, 'data-off', String(!on));
		b.disabled = !enabled;
	}

	#toggle(source: 'mic' | 'camera'): void {
		this.#call.setSourceEnabled(source, !this.#call.sending(source)).catch((error: unknown) => this.#status(`${source}: ${String(error)}`));
	}

	async #copyInvite(): Promise<void> {
		const { roomId, serverUrl } = this.#call.state();

		if (!roomId) return;

		const link = inviteLink(serverUrl, roomId);

		try {
			await navigator.clipboard.writeText(link);
			this.#status('Invite link copied');
		} catch {
			// No clipboard (not a secure context, or refused): show the link to copy by hand.
			this.#status(link);
		}
	}

	#status(text: string): void {
		$('#notice').textContent = text;
	}
}
