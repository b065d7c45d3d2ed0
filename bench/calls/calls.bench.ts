/**
 * `npm run bench:calls`: events per second through the AMI decoder alone and through the decoder
 * plus the call tracker (libs/asterisk), on a corpus of coherent calls built from the recorded
 * traces; prints both and their ratio (the tracker's cost), measured in the same run.
 */
import { AmiDecoder } from '@app/ami';
import { CallTracker } from '@app/asterisk';
import { buildCallsCorpus } from './calls-corpus';

const CHUNK = 16 * 1024;
const ROUNDS = 7;

function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

interface Run {
  ms: number;
  events: number;
  lineEvents: number;
}

function decoderOnly(parts: readonly Buffer[]): Run {
  let events = 0;
  const d = new AmiDecoder(
    {
      onPacket: (p) => {
        if (p.event !== undefined) events += 1;
      },
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner: false },
  );
  const t0 = process.hrtime.bigint();
  for (const c of parts) d.push(c);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, events, lineEvents: 0 };
}

function decoderAndTracker(parts: readonly Buffer[]): Run & { left: number } {
  let events = 0;
  let lineEvents = 0;
  const tracker = new CallTracker(
    {
      protocol: 'SIP/',
      queueExtensionFormat: 'Local/{0}@from-queue/n',
      sendRingStartedOnRingingState: true,
      packetInfoConfig: '',
      traceQueuesState: false,
    },
    {
      emit: () => {
        lineEvents += 1;
      },
      wantsRaw: () => false,
      anyRaw: () => false,
      notice: () => undefined,
    },
  );
  const d = new AmiDecoder(
    {
      onPacket: (p) => {
        if (p.event === undefined) return;
        events += 1;
        tracker.handle(p);
      },
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner: false },
  );
  const t0 = process.hrtime.bigint();
  for (const c of parts) d.push(c);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const s = tracker.sizes();
  return { ms, events, lineEvents, left: s.channels + s.calls + s.bridges + s.groups + s.parked };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const corpus = buildCallsCorpus();
  const parts = chunks(corpus.bytes);
  console.log(
    `corpus: ${corpus.calls} calls from the recorded traces, ${corpus.events} events, ${(corpus.bytes.length / 1e6).toFixed(1)} MB, up to 200 calls at once, ${CHUNK / 1024} KiB reads`,
  );
  // Warm-up, then alternate the two so that both see the same machine state.
  decoderOnly(parts);
  decoderAndTracker(parts);
  const dec: number[] = [];
  const trk: number[] = [];
  let last: ReturnType<typeof decoderAndTracker> | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const a = decoderOnly(parts);
    if (a.events !== corpus.events)
      throw new Error(`decoder saw ${a.events} of ${corpus.events} events`);
    dec.push(a.ms);
    last = decoderAndTracker(parts);
    if (last.events !== corpus.events) throw new Error(`tracker run saw ${last.events} events`);
    trk.push(last.ms);
  }
  if (!last || last.lineEvents === 0) throw new Error('the tracker produced no call events');
  if (last.left !== 0)
    throw new Error(`the tracker kept ${last.left} objects after every call ended`);
  const decRate = corpus.events / (median(dec) / 1000);
  const trkRate = corpus.events / (median(trk) / 1000);
  console.log(
    `decoder alone:      ${Math.round(decRate).toLocaleString('en')} events/s (median of ${ROUNDS})`,
  );
  console.log(
    `decoder + tracker:  ${Math.round(trkRate).toLocaleString('en')} events/s (${last.lineEvents} line events per run; nothing left in memory)`,
  );
  console.log(
    `ratio decoder+tracker / decoder alone: ${(trkRate / decRate).toFixed(2)} (the tracker costs ${((median(trk) / median(dec) - 1) * 100).toFixed(0)}% on top of decoding)`,
  );
}

main();
