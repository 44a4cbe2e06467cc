// Reads RTCPeerConnection stats (one getStats() per transport) into the
// plain figures of a StatsSnapshot, and turns two snapshots into rates for
// the page's live figures.

import type { CallClient } from './CallClient.js';
import type { InboundStats, OutboundStats, StatsSnapshot, TransportStats } from './api.js';

type Report = Record<string, unknown> & { id: string; type: string; timestamp: number };

function num(report: Report | undefined, key: string): number | undefined {
	const value = report?.[key];

	return typeof value === 'number' ? value : undefined;
}

function str(report: Report | undefined, key: string): string | undefined {
	const value = report?.[key];

	return typeof value === 'string' ? value : undefined;
}

/** Copies the numeric fields present in the report. */
function pick<K extends string>(report: Report, keys: readonly K[]): Partial<Record<K, number>> {
	const out: Partial<Record<K, number>> = {};

	for (const key of keys) {
		const value = num(report, key);

		if (value !== undefined) out[key] = value;
	}

	return out;
}

function candidate(report: Report | undefined): TransportStats['localCandidate'] {
	if (!report) return undefined;

	const usernameFragment = str(report, 'usernameFragment');

	return {
		protocol: str(report, 'protocol') ?? '',
		address: str(report, 'address') ?? str(report, 'ip') ?? '',
		port: num(report, 'port') ?? 0,
		candidateType: str(report, 'candidateType') ?? '',
		...(usernameFragment ? { usernameFragment } : {})
	};
}

const OUTBOUND_NUMBERS = ['framesEncoded', 'framesSent', 'frameWidth', 'frameHeight', 'framesPerSecond'] as const;
const INBOUND_NUMBERS = [
	'jitter',
	'framesReceived',
	'framesDecoded',
	'framesDropped',
	'frameWidth',
	'frameHeight',
	'framesPerSecond',
	'freezeCount',
	'totalFreezesDuration',
	'totalSamplesReceived',
	'concealedSamples',
	'audioLevel'
] as const;

export async function collectStats(client: CallClient): Promise<StatsSnapshot> {
	const snapshot: StatsSnapshot = { at: Date.now(), outbound: [], inbound: [], transports: [] };
	const producersByMid = new Map<string, { id: string; kind: 'audio' | 'video'; source: string }>();
	const consumersByMid = new Map<string, { id: string; producerId: string; peerId: string; kind: 'audio' | 'video'; source: string }>();

	for (const { producer, source } of client.producers) {
		if (!producer.closed && producer.rtpParameters.mid) producersByMid.set(producer.rtpParameters.mid, { id: producer.id, kind: producer.kind, source });
	}
	for (const { consumer, peerId, source } of client.consumers) {
		if (!consumer.closed && consumer.rtpParameters.mid)
			consumersByMid.set(consumer.rtpParameters.mid, { id: consumer.id, producerId: consumer.producerId, peerId, kind: consumer.kind, source });
	}

	for (const direction of ['send', 'recv'] as const) {
		const transport = client.transport(direction);

		if (!transport || transport.closed) continue;

		const reports = new Map<string, Report>();

		for (const report of (await transport.getStats()).values() as IterableIterator<Report>) reports.set(report.id, report);

		const all = [...reports.values()];
		const transportReport = all.find((r) => r.type === 'transport');
		const pair = reports.get(str(transportReport, 'selectedCandidatePairId') ?? '') ?? all.find((r) => r.type === 'candidate-pair' && r.nominated === true && r.state === 'succeeded');
		const localCandidate = candidate(reports.get(str(pair, 'localCandidateId') ?? ''));
		const remoteCandidate = candidate(reports.get(str(pair, 'remoteCandidateId') ?? ''));
		const availableOutgoingBitrate = num(pair, 'availableOutgoingBitrate');
		const currentRoundTripTime = num(pair, 'currentRoundTripTime');
		const iceLocalUsernameFragment = str(transportReport, 'iceLocalUsernameFragment');
		const dtlsState = str(transportReport, 'dtlsState');
		const iceState = str(transportReport, 'iceState');

		snapshot.transports.push({
			transportId: transport.id,
			direction,
			timestamp: transportReport?.timestamp ?? pair?.timestamp ?? performance.timeOrigin + performance.now(),
			bytesSent: num(transportReport, 'bytesSent') ?? num(pair, 'bytesSent') ?? 0,
			bytesReceived: num(transportReport, 'bytesReceived') ?? num(pair, 'bytesReceived') ?? 0,
			...(availableOutgoingBitrate !== undefined ? { availableOutgoingBitrate } : {}),
			...(currentRoundTripTime !== undefined ? { currentRoundTripTime } : {}),
			...(localCandidate ? { localCandidate } : {}),
			...(remoteCandidate ? { remoteCandidate } : {}),
			...(iceLocalUsernameFragment ? { iceLocalUsernameFragment } : {}),
			...(dtlsState ? { dtlsState } : {}),
			...(iceState ? { iceState } : {})
		});

		for (const report of all) {
			if (report.type === 'outbound-rtp') {
				const producer = producersByMid.get(str(report, 'mid') ?? '');

				if (!producer) continue;

				const remote = all.find((r) => r.type === 'remote-inbound-rtp' && r.localId === report.id);
				const quality = str(report, 'qualityLimitationReason');
				const encoder = str(report, 'encoderImplementation');
				const remotePacketsLost = num(remote, 'packetsLost');
				const remoteFractionLost = num(remote, 'fractionLost');
				const roundTripTime = num(remote, 'roundTripTime');
				const entry: OutboundStats = {
					producerId: producer.id,
					kind: producer.kind,
					source: producer.source,
					timestamp: report.timestamp,
					bytesSent: num(report, 'bytesSent') ?? 0,
					packetsSent: num(report, 'packetsSent') ?? 0,
					...pick(report, OUTBOUND_NUMBERS),
					...(quality ? { qualityLimitationReason: quality } : {}),
					...(encoder ? { encoderImplementation: encoder } : {}),
					...(remotePacketsLost !== undefined ? { remotePacketsLost } : {}),
					...(remoteFractionLost !== undefined ? { remoteFractionLost } : {}),
					...(roundTripTime !== undefined ? { roundTripTime } : {})
				};

				snapshot.outbound.push(entry);
			} else if (report.type === 'inbound-rtp') {
				const consumer = consumersByMid.get(str(report, 'mid') ?? '');

				if (!consumer) continue;

				const decoder = str(report, 'decoderImplementation');
				const entry: InboundStats = {
					consumerId: consumer.id,
					producerId: consumer.producerId,
					peerId: consumer.peerId,
					kind: consumer.kind,
					source: consumer.source,
					timestamp: report.timestamp,
					bytesReceived: num(report, 'bytesReceived') ?? 0,
					packetsReceived: num(report, 'packetsReceived') ?? 0,
					packetsLost: num(report, 'packetsLost') ?? 0,
					...pick(report, INBOUND_NUMBERS),
					...(decoder ? { decoderImplementation: decoder } : {})
				};

				snapshot.inbound.push(entry);
			}
		}
	}

	return snapshot;
}

/** One line of live figures per stream, from two snapshots. */
export interface StreamFigures {
	kbps: number;
	fps?: number;
	width?: number;
	height?: number;
	/** Percent of packets lost in the interval. */
	lossPct: number;
}

function rate(now: number, before: number, seconds: number): number {
	return seconds > 0 ? Math.max(0, now - before) / seconds : 0;
}

export function inboundFigures(now: InboundStats, before: InboundStats | undefined): StreamFigures {
	const seconds = before ? (now.timestamp - before.timestamp) / 1000 : 0;
	const lost = before ? Math.max(0, now.packetsLost - before.packetsLost) : now.packetsLost;
	const received = before ? Math.max(0, now.packetsReceived - before.packetsReceived) : now.packetsReceived;
	const fps = before && now.framesDecoded !== undefined ? rate(now.framesDecoded, before.framesDecoded ?? 0, seconds) : now.framesPerSecond;

	return {
		kbps: before ? (rate(now.bytesReceived, before.bytesReceived, seconds) * 8) / 1000 : 0,
		...(fps !== undefined ? { fps } : {}),
		...(now.frameWidth !== undefined ? { width: now.frameWidth } : {}),
		...(now.frameHeight !== undefined ? { height: now.frameHeight } : {}),
		lossPct: lost + received > 0 ? (100 * lost) / (lost + received) : 0
	};
}

export function outboundFigures(now: OutboundStats, before: OutboundStats | undefined): StreamFigures {
	const seconds = before ? (now.timestamp - before.timestamp) / 1000 : 0;
	const fps = before && now.framesEncoded !== undefined ? rate(now.framesEncoded, before.framesEncoded ?? 0, seconds) : now.framesPerSecond;

	return {
		kbps: before ? (rate(now.bytesSent, before.bytesSent, seconds) * 8) / 1000 : 0,
		...(fps !== undefined ? { fps } : {}),
		...(now.frameWidth !== undefined ? { width: now.frameWidth } : {}),
		...(now.frameHeight !== undefined ? { height: now.frameHeight } : {}),
		lossPct: (now.remoteFractionLost ?? 0) * 100
	};
}

export function formatFigures(kind: 'audio' | 'video', f: StreamFigures): string {
	const parts: string[] = [];

	if (kind === 'video') {
		parts.push(f.width && f.height ? `${f.width}x${f.height}` : '-x-');
		parts.push(`${(f.fps ?? 0).toFixed(0)} fps`);
	}
	parts.push(`${f.kbps.toFixed(0)} kbit/s`);
	parts.push(`loss ${f.lossPct.toFixed(1)} %`);

	return parts.join('  ');
}
