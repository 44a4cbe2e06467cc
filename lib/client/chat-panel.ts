// The chat panel: the call's messages (name, time, text; kept while the page
// lives, as the call keeps them), a box to write in, and an unread count on
// its button while the panel is closed.

import type { CallClient } from './CallClient.js';
import { clock, el } from './dom.js';

export interface ChatElements {
	panel: HTMLElement;
	log: HTMLElement;
	form: HTMLFormElement;
	input: HTMLInputElement;
	toggle: HTMLButtonElement;
	unread: HTMLElement;
	error: HTMLElement;
}

export class ChatPanel {
	readonly #call: CallClient;
	readonly #ui: ChatElements;
	/** Messages already on the page. */
	#shown = 0;
	#unread = 0;

	constructor(call: CallClient, ui: ChatElements) {
		this.#call = call;
		this.#ui = ui;
		call.addEventListener('chat', () => this.#render());
		ui.form.addEventListener('submit', (event) => {
			event.preventDefault();
			this.#send();
		});
	}

	get open(): boolean {
		return !this.#ui.panel.hidden;
	}

	setOpen(open: boolean): void {
		this.#ui.panel.hidden = !open;
		this.#ui.toggle.setAttribute('aria-expanded', String(open));
		if (open) {
			this.#unread = 0;
			this.#paintUnread();
			this.#ui.input.focus();
		}
	}

	#send(): void {
		const text = this.#ui.input.value;

		try {
			this.#call.sendChat(text);
			this.#ui.input.value = '';
			this.#ui.error.textContent = '';
		} catch (error) {
			this.#ui.error.textContent = error instanceof Error ? error.message : String(error);
		}
	}

	#render(): void {
		const messages = this.#call.state().chat.slice(this.#shown);

		for (const message of messages) {
			const item = el('li', message.own ? 'chat-msg own' : 'chat-msg');
			const time = el('time', 'when', clock(message.at));

			time.dateTime = new Date(message.at).toISOString();
			item.append(el('span', 'who', message.name), time, el('p', 'text', message.text));
			this.#ui.log.append(item);
			if (!message.own && !this.open) this.#unread++;
		}
		this.#shown += messages.length;
		this.#ui.log.scrollTop = this.#ui.log.scrollHeight;
		this.#paintUnread();
	}

	#paintUnread(): void {
		this.#ui.unread.textContent = this.#unread ? String(this.#unread) : '';
		this.#ui.unread.hidden = this.#unread === 0;
	}
}
