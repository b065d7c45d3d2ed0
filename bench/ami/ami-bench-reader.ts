/**
 * One measured run of one reader, in its own process (a clean heap, its own peak RSS):
 * argv <reader> <port> <events> <seed>. Builds the expected events from the same generator as the
 * server; warms the reader up on short streams (the first WARMUP_EVENTS events, for at least
 * WARMUP_MS: every reader alike reaches optimized code and a grown heap, so a fast reader's short
 * run is not charged for the start-up a slow one spreads over seconds); then connects again,
 * feeds every event to the shared checker, and tells the parent the result.
 */
import { performance } from 'node:perf_hooks';
import { EventChecker } from './ami-bench-check';
import { generateCorpus } from './ami-bench-corpus';
import { READERS, type Reader } from './ami-bench-readers';
import { WARMUP_EVENTS, WARMUP_USER } from './ami-bench-server';

export interface ReaderResult {
  reader: string;
  ok: number;
  lost: number;
  mangled: number;
  ms: number;
  /** CPU time (user + system) of the reader's process during the run. */
  cpuMs: number;
  /** Resident set size once the expected corpus is built, before connecting (MiB). */
  baseRssMiB: number;
  /** Largest resident set size seen during the run (sampled every 10 ms and at its end, MiB). */
  peakRssMiB: number;
  error?: string;
}

const WARMUP_MS = 1500;
const WARMUP_PASSES = 12;

/** Longest pause without a new event before the run is called stalled. */
const STALL_MS = 15_000;

/** One pass over a connection; resolves when the stream is over. */
function pass(
  reader: Reader,
  port: number,
  user: string,
  checker: EventChecker,
): Promise<{ ms: number; cpuMs: number; error?: string }> {
  return new Promise((resolve) => {
    let finished = false;
    let lastSeen = 0;
    const watchdog = setInterval(() => {
      if (checker.received === lastSeen) done('stalled: no event for 15 s');
      lastSeen = checker.received;
    }, STALL_MS);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const done = (error?: string): void => {
      if (finished) return;
      finished = true;
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      clearInterval(watchdog);
      checker.finish();
      resolve(error !== undefined ? { ms, cpuMs, error } : { ms, cpuMs });
    };
    reader({ port, user, checker, done });
  });
}

async function main(): Promise<void> {
  const [name, portArg, countArg, seedArg] = process.argv.slice(2);
  const reader = name !== undefined ? READERS[name] : undefined;
  if (!reader || typeof process.send !== 'function') {
    throw new Error(
      `ami-bench-reader: unknown reader ${String(name)} (or not run by ami.bench over IPC)`,
    );
  }
  const port = Number(portArg);
  const expected = generateCorpus(Number(countArg), Number(seedArg)).events;
  // Warm up to a steady state (optimized code, grown heap): short passes for at least
  // WARMUP_MS of the reader's own work (one pass for the slow ones), at most WARMUP_PASSES.
  const warmupStart = performance.now();
  for (let i = 0; i < WARMUP_PASSES && performance.now() - warmupStart < WARMUP_MS; i++) {
    await pass(reader, port, WARMUP_USER, new EventChecker(expected.slice(0, WARMUP_EVENTS)));
  }
  const checker = new EventChecker(expected);
  (globalThis as { gc?: () => void }).gc?.();
  const baseRssMiB = process.memoryUsage.rss() / 2 ** 20;
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  const { ms, cpuMs, error } = await pass(reader, port, 'bench', checker);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const result: ReaderResult = {
    reader: name!,
    ok: checker.ok,
    lost: checker.lost,
    mangled: checker.mangled,
    ms,
    cpuMs,
    baseRssMiB,
    peakRssMiB: peakRss / 2 ** 20,
    ...(error !== undefined ? { error } : {}),
  };
  process.send(result, () => process.exit(0));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
