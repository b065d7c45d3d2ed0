/**
 * `npm run bench:calls`: events per second through the AMI decoder alone and through the decoder
 * plus the call tracker (libs/asterisk), on two corpora: the bench corpus of bench/ami (generated calls) and coherent calls built from the
 * recorded traces; prints both rates and their ratio (the tracker's cost), measured in the same run.
 */
import { AmiDecoder } from '@app/ami';
import { CallTracker } from '@app/asterisk';
import { corpusBytes, generateCorpus } from '../ami/ami-bench-corpus';
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

interface Result {
  decRate: number;
  trkRate: number;
  lineEvents: number;
  left: number;
}

/** Decoder alone and decoder + tracker, alternated ROUNDS times on the same bytes; medians. */
function measure(bytes: Buffer, events: number): Result {
  const parts = chunks(bytes);
  // Warm-up, then alternate the two so that both see the same machine state.
  decoderOnly(parts);
  decoderAndTracker(parts);
  const dec: number[] = [];
  const trk: number[] = [];
  let last: ReturnType<typeof decoderAndTracker> | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const a = decoderOnly(parts);
    if (a.events !== events) throw new Error(`decoder saw ${a.events} of ${events} events`);
    dec.push(a.ms);
    last = decoderAndTracker(parts);
    if (last.events !== events)
      throw new Error(`tracker run saw ${last.events} of ${events} events`);
    trk.push(last.ms);
  }
  if (!last || last.lineEvents === 0) throw new Error('the tracker produced no call events');
  return {
    decRate: events / (median(dec) / 1000),
    trkRate: events / (median(trk) / 1000),
    lineEvents: last.lineEvents,
    left: last.left,
  };
}

function report(r: Result, leftNote: string): void {
  const f = (x: number) => Math.round(x).toLocaleString('en');
  console.log(`  decoder alone:     ${f(r.decRate)} events/s (median of ${ROUNDS})`);
  console.log(
    `  decoder + tracker: ${f(r.trkRate)} events/s (${r.lineEvents} line events per run; ${leftNote})`,
  );
  console.log(
    `  ratio decoder+tracker / decoder alone: ${(r.trkRate / r.decRate).toFixed(2)} (the tracker adds ${((r.decRate / r.trkRate - 1) * 100).toFixed(0)}% to the decoding time)`,
  );
}

function main(): void {
  // 1. The bench corpus (bench/ami): generated calls, trunk and queue calls with Local channels.
  const benchEvents = 300_000;
  const bench = corpusBytes(generateCorpus(benchEvents, 20261125));
  console.log(
    `bench corpus (bench/ami generateCorpus): ${benchEvents} events, ${(bench.length / 1e6).toFixed(1)} MB, ${CHUNK / 1024} KiB reads`,
  );
  const a = measure(bench, benchEvents);
  report(a, `${a.left} tracked objects of the calls cut off at the corpus end`);

  // 2. The recorded traces' calls (parking, transfers, originates too), copied and interleaved.
  const traces = buildCallsCorpus();
  console.log(
    `trace corpus: ${traces.calls} calls from the recorded traces, ${traces.events} events, ${(traces.bytes.length / 1e6).toFixed(1)} MB, up to 200 calls at once`,
  );
  const b = measure(traces.bytes, traces.events);
  if (b.left !== 0) throw new Error(`the tracker kept ${b.left} objects after every call ended`);
  report(b, 'nothing left in memory after the last call');
}

main();
