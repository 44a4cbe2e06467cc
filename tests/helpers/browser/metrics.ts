// Stats over a window: the pages' getStats() figures sampled every interval
// for several seconds, turned into per-stream rates (minimum over the
// intervals and average over the window), never a single sample.

import type { InboundStats, OutboundStats, StatsSnapshot } from '../../../lib/client/api.js';

export type Samples = Map<string, StatsSnapshot[]>;

/** A page with the client (a BrowserPeer). */
export interface StatsSource {
	name: string;
	stats(): Promise<StatsSnapshot>;
}

/** One snapshot of every peer, taken together (a page that fails to answer is left out this time). */
async function sampleOnce(peers: StatsSource[], samples: Samples): Promise<void> {
	const snapshots = await Promise.all(peers.map((p) => p.stats().catch(() => undefined)));

	peers.forEach((p, i) => {
		const snapshot = snapshots[i];

		if (snapshot) samples.get(p.name)?.push(snapshot);
	});
}

/** Samples every peer's stats every intervalMs for `seconds` (first sample at once: seconds/interval + 1 samples). */
export async function sampleWindow(peers: StatsSource[], seconds: number, intervalMs = 1000): Promise<Samples> {
	const samples: Samples = new Map(peers.map((p) => [p.name, []]));
	const ticks = Math.round((seconds * 1000) / intervalMs);
	const started = Date.now();

	for (let tick = 0; tick <= ticks; tick++) {
		const due = started + tick * intervalMs;

		if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));

		await sampleOnce(peers, samples);
	}

	return samples;
}

export interface Sampler {
	/** Milliseconds covered so far by every peer's samples. */
	span(): number;
	/** Resolves once every peer's samples cover `ms` more than they did at the call. */
	extend(ms: number): Promise<void>;
	stop(): Promise<Samples>;
}

/** Samples until stop() is called (for windows that span an event). */
export function startSampling(peers: StatsSource[], intervalMs = 500): Sampler {
	const samples: Samples = new Map(peers.map((p) => [p.name, []]));
	let running = true;
	const loop = (async () => {
		while (running) {
			const tick = Date.now();
			await sampleOnce(peers, samples);
			const wait = intervalMs - (Date.now() - tick);

			if (running && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
		}
	})();

	const span = (): number =>
		Math.min(
			...[...samples.values()].map((list) => {
				const first = list[0];
				const last = list.at(-1);

				return first && last ? last.at - first.at : 0;
			})
		);

	return {
		span,
		async extend(ms) {
			const target = span() + ms;

			while (span() < target) {
				if (!running) throw new Error('sampling stopped');
				await new Promise((resolve) => setTimeout(resolve, intervalMs / 2));
			}
		},
		async stop() {
			running = false;
			await loop;

			return samples;
		}
	};
}

export interface Range {
	min: number;
	avg: number;
	max: number;
}

function range(values: number[], total?: number): Range {
	if (!values.length) return { min: 0, avg: 0, max: 0 };

	return { min: Math.min(...values), avg: total ?? values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

export interface InboundWindow {
	/** The receiving peer's name. */
	receiver: string;
	consumerId: string;
	producerId: string;
	/** The sending peer's id. */
	peerId: string;
	kind: 'audio' | 'video';
	source: string;
	seconds: number;
	intervals: number;
	kbps: Range;
	packetsPerSecond: Range;
	/** Percent of packets lost over the whole window. */
	lossPct: number;
	packetsLost: number;
	/** Video: frames decoded per second, per interval and overall. */
	fps: Range;
	width: Range;
	height: Range;
	framesDecoded: number;
	framesDropped: number;
	freezes: number;
	/** Seconds spent frozen (Chromium's totalFreezesDuration). */
	freezeSeconds: number;
	/** Stats timestamp (ms) at the end of the slowest interval (fewest frames, or packets for audio). */
	slowestAt: number;
	/** Audio: samples received per second. */
	samplesPerSecond: Range;
	concealedPct: number;
}

function inboundPairs(samples: StatsSnapshot[], consumerId: string): [InboundStats, InboundStats][] {
	const series = samples.map((s) => s.inbound.find((i) => i.consumerId === consumerId)).filter((s): s is InboundStats => !!s);
	const pairs: [InboundStats, InboundStats][] = [];

	for (let i = 1; i < series.length; i++) {
		const a = series[i - 1] as InboundStats;
		const b = series[i] as InboundStats;

		if (b.timestamp > a.timestamp) pairs.push([a, b]);
	}

	return pairs;
}

/** Per inbound stream of one receiver, over its samples. */
export function inboundWindows(receiver: string, samples: StatsSnapshot[]): InboundWindow[] {
	const ids = new Map<string, InboundStats>();

	for (const snapshot of samples) for (const stream of snapshot.inbound) if (!ids.has(stream.consumerId)) ids.set(stream.consumerId, stream);

	return [...ids.values()].map((first) => {
		const pairs = inboundPairs(samples, first.consumerId);
		const seconds = pairs.reduce((sum, [a, b]) => sum + (b.timestamp - a.timestamp) / 1000, 0);
		const per = (f: (s: InboundStats) => number | undefined) => pairs.map(([a, b]) => ((f(b) ?? 0) - (f(a) ?? 0)) / ((b.timestamp - a.timestamp) / 1000));
		const delta = (f: (s: InboundStats) => number | undefined) => pairs.reduce((sum, [a, b]) => sum + ((f(b) ?? 0) - (f(a) ?? 0)), 0);
		const overall = (f: (s: InboundStats) => number | undefined) => (seconds > 0 ? delta(f) / seconds : 0);
		const received = delta((s) => s.packetsReceived);
		const lost = Math.max(0, delta((s) => s.packetsLost));
		const samplesReceived = delta((s) => s.totalSamplesReceived);
		const points = pairs.flatMap(([a, b]) => [a, b]);
		const pace = first.kind === 'video' ? per((s) => s.framesDecoded) : per((s) => s.packetsReceived);
		const slowest = pace.indexOf(Math.min(...pace));

		return {
			receiver,
			consumerId: first.consumerId,
			producerId: first.producerId,
			peerId: first.peerId,
			kind: first.kind,
			source: first.source,
			seconds,
			intervals: pairs.length,
			kbps: range(per((s) => (s.bytesReceived * 8) / 1000), overall((s) => (s.bytesReceived * 8) / 1000)),
			packetsPerSecond: range(per((s) => s.packetsReceived), overall((s) => s.packetsReceived)),
			lossPct: received + lost > 0 ? (100 * lost) / (received + lost) : 0,
			packetsLost: lost,
			fps: range(per((s) => s.framesDecoded), overall((s) => s.framesDecoded)),
			width: range(points.map((s) => s.frameWidth ?? 0)),
			height: range(points.map((s) => s.frameHeight ?? 0)),
			framesDecoded: delta((s) => s.framesDecoded),
			framesDropped: delta((s) => s.framesDropped),
			freezes: delta((s) => s.freezeCount),
			freezeSeconds: delta((s) => s.totalFreezesDuration),
			slowestAt: pairs[slowest]?.[1].timestamp ?? 0,
			samplesPerSecond: range(per((s) => s.totalSamplesReceived), overall((s) => s.totalSamplesReceived)),
			concealedPct: samplesReceived > 0 ? (100 * delta((s) => s.concealedSamples)) / samplesReceived : 0
		};
	});
}

export interface OutboundWindow {
	sender: string;
	producerId: string;
	kind: 'audio' | 'video';
	source: string;
	seconds: number;
	kbps: Range;
	fps: Range;
	width: Range;
	height: Range;
	qualityLimitationReason: string | undefined;
	encoder: string | undefined;
}

export function outboundWindows(sender: string, samples: StatsSnapshot[]): OutboundWindow[] {
	const ids = new Map<string, OutboundStats>();

	for (const snapshot of samples) for (const stream of snapshot.outbound) if (!ids.has(stream.producerId)) ids.set(stream.producerId, stream);

	return [...ids.values()].map((first) => {
		const series = samples.map((s) => s.outbound.find((o) => o.producerId === first.producerId)).filter((s): s is OutboundStats => !!s);
		const pairs = series.slice(1).map((b, i) => [series[i] as OutboundStats, b] as const).filter(([a, b]) => b.timestamp > a.timestamp);
		const seconds = pairs.reduce((sum, [a, b]) => sum + (b.timestamp - a.timestamp) / 1000, 0);
		const per = (f: (s: OutboundStats) => number | undefined) => pairs.map(([a, b]) => ((f(b) ?? 0) - (f(a) ?? 0)) / ((b.timestamp - a.timestamp) / 1000));
		const overall = (f: (s: OutboundStats) => number | undefined) =>
			seconds > 0 ? pairs.reduce((sum, [a, b]) => sum + ((f(b) ?? 0) - (f(a) ?? 0)), 0) / seconds : 0;
		const last = series.at(-1);

		return {
			sender,
			producerId: first.producerId,
			kind: first.kind,
			source: first.source,
			seconds,
			kbps: range(per((s) => (s.bytesSent * 8) / 1000), overall((s) => (s.bytesSent * 8) / 1000)),
			fps: range(per((s) => s.framesEncoded), overall((s) => s.framesEncoded)),
			width: range(series.map((s) => s.frameWidth ?? 0)),
			height: range(series.map((s) => s.frameHeight ?? 0)),
			qualityLimitationReason: last?.qualityLimitationReason,
			encoder: last?.encoderImplementation
		};
	});
}

/** A peer's total send and receive bitrate (its two transports) over the window. */
export function transportRates(samples: StatsSnapshot[]): { sendKbps: number; recvKbps: number } {
	const first = samples[0];
	const last = samples.at(-1);

	if (!first || !last || first === last) return { sendKbps: 0, recvKbps: 0 };

	const rate = (direction: 'send' | 'recv', field: 'bytesSent' | 'bytesReceived') => {
		const a = first.transports.find((t) => t.direction === direction);
		const b = last.transports.find((t) => t.direction === direction);

		if (!a || !b || b.timestamp <= a.timestamp) return 0;

		return ((b[field] - a[field]) * 8) / 1000 / ((b.timestamp - a.timestamp) / 1000);
	};

	return { sendKbps: rate('send', 'bytesSent'), recvKbps: rate('recv', 'bytesReceived') };
}

const r1 = (n: number) => n.toFixed(1);
const r0 = (n: number) => n.toFixed(0);

export function describeInbound(w: InboundWindow, senderName: string): string {
	const head = `${w.receiver} <- ${senderName} ${w.source}`;

	if (w.kind === 'video') {
		return (
			`${head}: ${r0(w.width.min)}x${r0(w.height.min)}` +
			(w.width.max !== w.width.min ? `..${r0(w.width.max)}x${r0(w.height.max)}` : '') +
			` ${r1(w.fps.avg)} fps (min ${r1(w.fps.min)}/s over ${w.intervals} intervals), ${r0(w.kbps.avg)} kbit/s, loss ${w.lossPct.toFixed(2)} %` +
			` (${w.packetsLost} pkts), freezes ${w.freezes} (${w.freezeSeconds.toFixed(2)} s), dropped ${w.framesDropped}, ${r1(w.seconds)} s`
		);
	}

	return (
		`${head}: ${r0(w.samplesPerSecond.avg)} samples/s (min ${r0(w.samplesPerSecond.min)}), ${r1(w.packetsPerSecond.avg)} pkt/s ` +
		`(min ${r1(w.packetsPerSecond.min)}), ${r0(w.kbps.avg)} kbit/s, loss ${w.lossPct.toFixed(2)} %, concealed ${w.concealedPct.toFixed(1)} %, ${r1(w.seconds)} s`
	);
}

export function describeOutbound(w: OutboundWindow): string {
	const video = w.kind === 'video' ? ` ${r0(w.width.min)}x${r0(w.height.min)} ${r1(w.fps.avg)} fps encoded, limit ${w.qualityLimitationReason ?? '-'}, ${w.encoder ?? ''}` : '';

	return `${w.sender} -> ${w.source}: ${r0(w.kbps.avg)} kbit/s${video}`;
}
