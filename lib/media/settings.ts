// mediasoup settings derived from the configuration: codecs and transport
// options. Kept apart from the pool so the room code can read them too.

import type * as ms from 'mediasoup/types';
import type { Config } from '../config/options.js';

/** Opus for audio; VP8 (cameras), VP9 profile 0 (SVC screen shares) and 2, and H264, so every browser finds a match. */
export const MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, usedtx: 1 } },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 800 } },
	{ kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0, 'x-google-start-bitrate': 800 } },
	{ kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 2, 'x-google-start-bitrate': 800 } },
	{
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 800 }
	},
	{
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 800 }
	}
];

/** The address clients should reach: the announced domain wins over the IP. */
export function announcedAddress(config: Config): string | undefined {
	return config.announcedDomain ?? config.announcedIp;
}

/** Listen infos for UDP and TCP on one IP, optionally on a fixed port. */
export function listenInfos(config: Config, port: number | undefined): ms.TransportListenInfo[] {
	const announced = announcedAddress(config);

	return (['udp', 'tcp'] as const).map((protocol) => ({
		protocol,
		ip: config.listenIp,
		...(announced ? { announcedAddress: announced } : {}),
		...(port !== undefined ? { port } : { portRange: { min: config.rtcMinPort, max: config.rtcMaxPort } })
	}));
}
