// Raw RTP counters of a client page, summed over all its RTCPeerConnections
// (NACK and retransmission counters the client's own figures leave out): an
// init script keeps every RTCPeerConnection the page makes, and getStats()
// of each is read in the page.

import type { BrowserPeer } from './peer.js';

/** Sums of the raw RTP counters of all the page's peer connections, per direction and kind. */
export interface RtpCounters {
	/** outbound-rtp: NACKs received from the SFU, packets resent (RTX), PLIs and FIRs received. */
	sent: Record<'audio' | 'video', { packets: number; nackCount?: number; retransmittedPackets?: number; pliCount?: number; firCount?: number; remotePacketsLost?: number }>;
	/** inbound-rtp: NACKs sent to the SFU, RTX packets received, PLIs and FIRs sent, packets lost. */
	received: Record<'audio' | 'video', { packets: number; packetsLost: number; nackCount?: number; retransmittedPackets?: number; pliCount?: number; firCount?: number; keyFramesDecoded?: number }>;
}

/** Runs in the page before its scripts (LaunchOptions.initScript): records every RTCPeerConnection. */
export const TRACK_PEER_CONNECTIONS = `(() => {
	const Native = window.RTCPeerConnection;
	if (!Native || window.__netTestPcs) return;
	const pcs = [];
	Object.defineProperty(window, '__netTestPcs', { value: pcs });
	window.RTCPeerConnection = new Proxy(Native, {
		construct(target, args, newTarget) {
			const pc = Reflect.construct(target, args, newTarget);
			pcs.push(pc);
			return pc;
		}
	});
})();`;

// Evaluated in the page: raw counters summed over the open peer connections.
// mediasoup's bandwidth probe (RTP padding on SSRC 1234, mid 'probator' in the
// receive transport) is left out: it is no media, the browser counts its
// sequence gaps as lost and NACKs and PLIs it, and mediasoup ignores those.
const RAW_RTP_COUNTERS = `(async () => {
	const zero = () => ({ packets: 0 });
	const out = { sent: { audio: zero(), video: zero() }, received: { audio: { ...zero(), packetsLost: 0 }, video: { ...zero(), packetsLost: 0 } } };
	// Our counter name -> the RTCStats field it sums.
	const SENT = { packets: 'packetsSent', nackCount: 'nackCount', retransmittedPackets: 'retransmittedPacketsSent', pliCount: 'pliCount', firCount: 'firCount' };
	const RECEIVED = { packets: 'packetsReceived', packetsLost: 'packetsLost', nackCount: 'nackCount', retransmittedPackets: 'retransmittedPacketsReceived', pliCount: 'pliCount', firCount: 'firCount', keyFramesDecoded: 'keyFramesDecoded' };
	const add = (target, key, value) => { if (typeof value === 'number') target[key] = (target[key] ?? 0) + value; };
	const addAll = (target, fields, stats) => { for (const [key, field] of Object.entries(fields)) add(target, key, stats[field]); };
	for (const pc of window.__netTestPcs ?? []) {
		if (pc.connectionState === 'closed') continue;
		const report = await pc.getStats();
		const all = [...report.values()];
		for (const r of all) {
			if (r.type === 'outbound-rtp' && out.sent[r.kind]) {
				addAll(out.sent[r.kind], SENT, r);
				const remote = all.find((x) => x.type === 'remote-inbound-rtp' && x.localId === r.id);
				if (remote) add(out.sent[r.kind], 'remotePacketsLost', remote.packetsLost);
			} else if (r.type === 'inbound-rtp' && out.received[r.kind] && r.mid !== 'probator' && r.ssrc !== 1234) {
				addAll(out.received[r.kind], RECEIVED, r);
			}
		}
	}
	return out;
})()`;

/** The page's raw RTP counters (the page must have been launched with initScript TRACK_PEER_CONNECTIONS). */
export function rtpCounters(peer: BrowserPeer): Promise<RtpCounters> {
	return peer.page.evaluate(RAW_RTP_COUNTERS) as Promise<RtpCounters>;
}

/** Counter differences (end - start); undefined where the browser does not report the field. */
export function rtpDelta(start: RtpCounters, end: RtpCounters): RtpCounters {
	const diff = <T extends Record<string, number | undefined>>(a: T, b: T): T => {
		const out: Record<string, number | undefined> = {};

		for (const key of Object.keys(b)) {
			const before = a[key];
			const after = b[key];

			out[key] = typeof after === 'number' ? after - (typeof before === 'number' ? before : 0) : undefined;
		}

		return out as T;
	};

	return {
		sent: { audio: diff(start.sent.audio, end.sent.audio), video: diff(start.sent.video, end.sent.video) },
		received: { audio: diff(start.received.audio, end.received.audio), video: diff(start.received.video, end.received.video) }
	};
}
