// How the browser client sends each source, run in Node through lib/client's
// Call against the real server (mediasoup-client on FakeHandler): a screen
// share goes out as VP9 SVC (L1T3) where the browser and the router both
// have VP9, else as one VP8 stream; switching the camera keeps its producer.

import test from 'ava';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import type * as ms from 'mediasoup/types';
import { Call, type Track } from '../lib/client/call.js';
import { screenSendOptions } from '../lib/client/media.js';
import { fakeDevice } from './helpers/client.js';
import { CALL_OPTIONS, fakeTrack, nodeCallParts } from './helpers/node-call.js';
import { startServer } from './helpers/server.js';

/** Exposes the screen share's produce path without navigator.mediaDevices. */
class ScreenCall extends Call {
	shareTrack(track: Track): Promise<string> {
		return this.produceTrack(track, 'screen', 'canvas');
	}
}

/** A FakeHandler device whose browser has no VP9. */
function deviceWithoutVp9(): Device {
	return new Device({
		handlerFactory: FakeHandler.createFactory({
			generateNativeRtpCapabilities: () => {
				const capabilities = testFakeParameters.generateNativeRtpCapabilities();

				return { ...capabilities, codecs: capabilities.codecs?.filter((c) => c.mimeType.toLowerCase() !== 'video/vp9') };
			},
			generateLocalDtlsParameters: testFakeParameters.generateLocalDtlsParameters
		})
	});
}

async function shareScreen(device: Device): Promise<ms.Producer> {
	const { server, url } = await startServer();

	try {
		const call = new ScreenCall({ ...CALL_OPTIONS, serverUrl: url, audio: false, video: false }, { ...nodeCallParts(url), device });

		try {
			await call.start();

			const producerId = await call.shareTrack(fakeTrack('video'));
			const room = [...server.rooms.rooms].find((r) => r.id === call.roomId);
			const producer = [...(room?.peers ?? [])].find((p) => p.id === call.peerId)?.producers.get(producerId);

			if (!producer) throw new Error('the screen producer is not on the server');

			return producer;
		} finally {
			await call.leave();
		}
	} finally {
		await server.close();
	}
}

test('a screen share goes out as VP9 SVC with three temporal layers where both ends have VP9', async (t) => {
	const producer = await shareScreen(fakeDevice());

	t.is(producer.type, 'svc');
	t.is(producer.rtpParameters.codecs[0]?.mimeType, 'video/VP9');
	t.is(producer.rtpParameters.codecs[0]?.parameters?.['profile-id'], 0);
	t.deepEqual(producer.rtpParameters.encodings?.map((e) => e.scalabilityMode), ['L1T3']);
});

test('a screen share is one VP8 stream where the browser has no VP9', async (t) => {
	const producer = await shareScreen(deviceWithoutVp9());

	t.is(producer.type, 'simple');
	t.is(producer.rtpParameters.codecs[0]?.mimeType, 'video/VP8');
});

test('screenSendOptions picks VP9 profile 0 only', (t) => {
	const vp9 = (profile: number): ms.RtpCodecCapability => ({ kind: 'video', mimeType: 'video/VP9', preferredPayloadType: 100 + profile, clockRate: 90000, parameters: { 'profile-id': profile } });

	t.deepEqual(screenSendOptions({ codecs: [vp9(2)] }), {});
	t.like(screenSendOptions({ codecs: [vp9(2), vp9(0)] }), { codec: { parameters: { 'profile-id': 0 } }, encodings: [{ scalabilityMode: 'L1T3' }] });
});

test('switching the camera during the call keeps its producer and stops the old track', async (t) => {
	const { server, url } = await startServer();

	t.teardown(() => server.close());

	const call = new Call({ ...CALL_OPTIONS, serverUrl: url, audio: false, video: true }, nodeCallParts(url));

	t.teardown(() => call.leave());
	await call.start();

	const before = [...call.producers].find((p) => p.source === 'camera');
	const oldTrack = before?.producer.track;

	await call.switchDevice('camera', 'another-camera');

	const after = [...call.producers].filter((p) => p.source === 'camera');

	t.is(call.options.videoDeviceId, 'another-camera', 'the next capture asks for the picked device');
	t.deepEqual(after.map((p) => p.producer.id), [before?.producer.id], 'the same producer');
	t.not(after[0]?.producer.track, oldTrack, 'with a new track');
	t.is(oldTrack?.readyState, 'ended', 'the old track is stopped');
	t.is(call.localTrack('camera'), after[0]?.producer.track);
});
