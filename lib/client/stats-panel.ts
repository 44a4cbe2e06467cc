// The stats panel: one line per stream we send and receive (resolution,
// fps, bitrate, loss) and the network path of each transport, from two
// getStats() snapshots. main.ts hands it every snapshot it takes.

import type { StatsSnapshot } from './api.js';
import type { CallClient } from './CallClient.js';
import { formatFigures, inboundFigures, outboundFigures } from './stats.js';

export class StatsPanel {
	readonly #call: CallClient;
	readonly #panel: HTMLElement;
	readonly #text: HTMLElement;
	readonly #toggle: HTMLButtonElement;

	constructor(call: CallClient, panel: HTMLElement, text: HTMLElement, toggle: HTMLButtonElement) {
		this.#call = call;
		this.#panel = panel;
		this.#text = text;
		this.#toggle = toggle;
	}

	get open(): boolean {
		return !this.#panel.hidden;
	}

	setOpen(open: boolean): void {
		this.#panel.hidden = !open;
		this.#toggle.setAttribute('aria-expanded', String(open));
	}

	/** Shows the figures between two snapshots (only while open). */
	update(now: StatsSnapshot, before: StatsSnapshot | undefined): void {
		if (!this.open) return;

		const sent = now.outbound.map((outbound) => {
			const previous = before?.outbound.find((s) => s.producerId === outbound.producerId);

			return `you → ${outbound.source}: ${formatFigures(outbound.kind, outboundFigures(outbound, previous))}`;
		});
		const received = now.inbound.map((inbound) => {
			const previous = before?.inbound.find((s) => s.consumerId === inbound.consumerId);

			return `${this.#call.remotePeerName(inbound.peerId)} ${inbound.source}: ${formatFigures(inbound.kind, inboundFigures(inbound, previous))}`;
		});
		// The selected candidate pairs: relay (TURN), host, srflx/prflx (through a NAT), udp or tcp.
		const paths = now.transports
			.filter((t) => t.localCandidate && t.remoteCandidate)
			.map((t) => `${t.direction} path: ${t.localCandidate!.protocol} ${t.localCandidate!.candidateType} -> ${t.remoteCandidate!.address}:${t.remoteCandidate!.port}`);

		this.#text.textContent = [...sent, ...received, ...paths].join('\n') || 'no streams yet';
	}
}
