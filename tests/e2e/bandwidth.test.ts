// E2E: the downlink budget and the active speaker with real Chromium. Two
// senders, each in its own Chromium with a 1280x720 fake camera (simulcast)
// and a WAV file as its microphone (--use-file-for-fake-audio-capture): a
// tone for the speaker, silence for the other. A receiver capped by
// MAX_DOWNLINK_BITRATE=700000 must get at most 700 kbit/s of video (+15 %),
// both videos at 10 fps or more, the speaker's at a higher resolution; then
// the speaker falls silent and the other starts speaking (a tone mixed into
// its microphone by the page's init script) and the layers swap within 5 s.

import { browserSuite } from '../helpers/browser/suite.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClientState } from '../../lib/client/api.js';
import { Call } from '../helpers/browser/call.js';
import { describeInbound, inboundWindows, sampleWindow, transportRates } from '../helpers/browser/metrics.js';
import type { BrowserPeer } from '../helpers/browser/peer.js';
import { machineNote, startMachineMeter } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const BUDGET = 700_000;
const WINDOW_SECONDS = 6;

/**
 * A 48 kHz mono 16-bit WAV: a 440 Hz tone, or silence. The silence carries a
 * +-2 LSB dither (about -80 dBov, far below any speech threshold): a
 * microphone of exact zeros made Chromium send silence even after a tone was
 * mixed in later.
 */
function wav(seconds: number, tone: boolean): Buffer {
	const rate = 48_000;
	const samples = rate * seconds;
	const data = Buffer.alloc(samples * 2);

	for (let i = 0; i < samples; i++) data.writeInt16LE(tone ? Math.round(12_000 * Math.sin((2 * Math.PI * 440 * i) / rate)) : (i % 4) - 2, i * 2);

	const header = Buffer.alloc(44);

	header.write('RIFF', 0);
	header.writeUInt32LE(36 + data.length, 4);
	header.write('WAVEfmt ', 8);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20);
	header.writeUInt16LE(1, 22);
	header.writeUInt32LE(rate, 24);
	header.writeUInt32LE(rate * 2, 28);
	header.writeUInt16LE(2, 32);
	header.writeUInt16LE(16, 34);
	header.write('data', 36);
	header.writeUInt32LE(data.length, 40);

	return Buffer.concat([header, data]);
}

/**
 * Runs before the page: the microphone goes through Web Audio so the test can
 * silence it (window.__voice.mute) or add a tone to it (window.__voice.speak).
 */
const VOICE_SCRIPT = `(() => {
	const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
	navigator.mediaDevices.getUserMedia = async (constraints) => {
		const stream = await getUserMedia(constraints);
		const mic = stream.getAudioTracks()[0];
		if (!mic) return stream;
		const context = new AudioContext();
		const micGain = context.createGain();
		const toneGain = context.createGain();
		const tone = context.createOscillator();
		const out = context.createMediaStreamDestination();
		toneGain.gain.value = 0;
		tone.frequency.value = 440;
		context.createMediaStreamSource(new MediaStream([mic])).connect(micGain).connect(out);
		tone.connect(toneGain).connect(out);
		tone.start();
		window.__voice = { mute: () => { micGain.gain.value = 0; }, speak: () => { toneGain.gain.value = 0.4; } };
		return new MediaStream([out.stream.getAudioTracks()[0], ...stream.getVideoTracks()]);
	};
})();`;

const serial = browserSuite();

/** The receiver's video consumers by sender peer id: received height (stats) and layer (consumerLayersChanged). */
async function videoBySender(receiver: BrowserPeer): Promise<Map<string, { height: number; layer: number | undefined }>> {
	const [stats, state] = await Promise.all([receiver.stats(), receiver.state()]);
	const result = new Map<string, { height: number; layer: number | undefined }>();

	for (const inbound of stats.inbound) {
		if (inbound.kind !== 'video') continue;

		const consumer = state.consumers.find((c) => c.consumerId === inbound.consumerId);

		result.set(inbound.peerId, { height: inbound.frameHeight ?? 0, layer: consumer?.layers?.spatialLayer });
	}

	return result;
}

serial('a 700 kbit/s budget: the active speaker gets the higher layer, both decode at >= 10 fps, and the layers swap when the other speaks', async (t) => {
	t.timeout(170_000);

	const dir = await mkdtemp(path.join(os.tmpdir(), 'vcall-voices-'));

	t.teardown(() => rm(dir, { recursive: true, force: true }));
	await writeFile(path.join(dir, 'tone.wav'), wav(10, true));
	await writeFile(path.join(dir, 'silence.wav'), wav(10, false));

	const call = await Call.start(t.context.site, { server: { maxDownlinkBitrate: BUDGET } });

	t.teardown(() => call.close());

	const camera = { width: 1280, height: 720, fps: 30, fakeFps: 30, audioProcessing: false, initScript: VOICE_SCRIPT };
	const receiver = await call.addPeer('receiver', { audio: false, video: false });
	const speaker = await call.addPeer('speaker', { ...camera, extraArgs: [`--use-file-for-fake-audio-capture=${path.join(dir, 'tone.wav')}`] });
	const quiet = await call.addPeer('quiet', { ...camera, extraArgs: [`--use-file-for-fake-audio-capture=${path.join(dir, 'silence.wav')}`] });
	const ids = new Map<BrowserPeer, string>();

	for (const peer of [speaker, quiet]) ids.set(peer, (await peer.state()).peerId ?? '');

	const speaking = (state: ClientState, peer: BrowserPeer) => state.activeSpeaker === ids.get(peer);
	let seen = '';
	const ahead = async (loud: BrowserPeer, silent: BrowserPeer) => {
		const state = await receiver.state();
		const video = await videoBySender(receiver);
		const a = video.get(ids.get(loud)!);
		const b = video.get(ids.get(silent)!);

		seen = `activeSpeaker ${state.activeSpeaker === null ? 'null' : state.activeSpeaker === ids.get(loud) ? loud.name : silent.name}, ${loud.name} ${a?.height}p layer ${a?.layer}, ${silent.name} ${b?.height}p layer ${b?.layer}`;

		return speaking(state, loud) && a && b && a.height > b.height && (a.layer ?? 0) > (b.layer ?? 0) ? { a, b } : undefined;
	};

	/** What the receiver hears, for the log and failure messages. */
	const levels = async () => {
		const inbound = (await receiver.stats()).inbound.filter((s) => s.kind === 'audio');
		const names = await call.names();

		return `audio at the receiver: ${inbound.map((s) => `${names.get(s.peerId)} level ${s.audioLevel?.toFixed(3)}, ${s.packetsReceived} pkts`).join('; ')}`;
	};
	/** A timeout says what the receiver last saw and heard. */
	const explained = async (error: unknown): Promise<never> => {
		throw new Error(`${(error as Error).message}; last seen: ${seen}; ${await levels()}`);
	};
	const first = await waitFor(() => ahead(speaker, quiet), { timeout: 45_000, interval: 500, what: 'activeSpeaker = speaker and its video above the quiet one' }).catch(explained);

	t.log(await levels());
	t.log(`speaker at ${first.a.height}p (layer ${first.a.layer}), quiet at ${first.b.height}p (layer ${first.b.layer})`);

	const machine = startMachineMeter();
	const samples = (await sampleWindow([receiver], WINDOW_SECONDS, 1000)).get(receiver.name) ?? [];

	t.log(`${machineNote(machine.stop())} (the machine is shared: figures under load)`);

	const names = await call.names();
	const video = inboundWindows(receiver.name, samples).filter((w) => w.kind === 'video');
	const totalKbps = video.reduce((sum, w) => sum + w.kbps.avg, 0);

	for (const w of video) t.log(describeInbound(w, names.get(w.peerId) ?? w.peerId));
	t.log(`receiver: ${totalKbps.toFixed(0)} kbit/s of video (budget ${BUDGET / 1000}), transport ${transportRates(samples).recvKbps.toFixed(0)} kbit/s`);
	t.is(video.length, 2);
	t.true(totalKbps <= (BUDGET / 1000) * 1.15, `video ${totalKbps.toFixed(0)} kbit/s within 700 kbit/s + 15 %`);
	for (const w of video) t.true(w.fps.avg >= 10, `${names.get(w.peerId)}: ${w.fps.avg.toFixed(1)} fps >= 10`);

	const loud = video.find((w) => w.peerId === ids.get(speaker))!;
	const silent = video.find((w) => w.peerId === ids.get(quiet))!;

	t.true(loud.height.avg > silent.height.avg, `speaker ${loud.height.avg.toFixed(0)}p above quiet ${silent.height.avg.toFixed(0)}p`);

	// The speaker falls silent and the other one speaks: the layers swap within 5 s.
	const swapStart = Date.now();

	await speaker.page.evaluate(() => (window as unknown as { __voice: { mute(): void } }).__voice.mute());
	await quiet.page.evaluate(() => (window as unknown as { __voice: { speak(): void } }).__voice.speak());

	const swapped = await waitFor(() => ahead(quiet, speaker), { timeout: 5000, interval: 200, what: 'the layers to swap within 5 s' }).catch(explained);

	t.log(`swap after ${((Date.now() - swapStart) / 1000).toFixed(1)} s: now speaking ${swapped.a.height}p (layer ${swapped.a.layer}), the other ${swapped.b.height}p (layer ${swapped.b.layer})`);
	t.pass();
});
