/**
 * One measured run of one reader, in its own process (a clean heap, its own peak RSS):
 * argv <reader> <port> <events> <seed>. Builds the expected events from the same generator as the
 * server, connects, feeds every event to the shared checker, and tells the parent the result.
 */
import { performance } from 'node:perf_hooks';
import { EventChecker } from './ami-bench-check';
import { generateCorpus } from './ami-bench-corpus';
import { READERS } from './ami-bench-readers';

export interface ReaderResult {
  reader: string;
  ok: number;
  lost: number;
  mangled: number;
  ms: number;
  /** Resident set size once the expected corpus is built, before connecting (MiB). */
  baseRssMiB: number;
  /** Peak resident set size of the process (MiB). */
  peakRssMiB: number;
  error?: string;
}

/** Longest pause without a new event before the run is called stalled. */
const STALL_MS = 15_000;

function main(): void {
  const [name, portArg, countArg, seedArg] = process.argv.slice(2);
  const reader = name !== undefined ? READERS[name] : undefined;
  if (!reader || typeof process.send !== 'function') {
    throw new Error(
      `ami-bench-reader: unknown reader ${String(name)} (or not run by ami.bench over IPC)`,
    );
  }
  const expected = generateCorpus(Number(countArg), Number(seedArg)).events;
  const checker = new EventChecker(expected);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseRssMiB = process.memoryUsage.rss() / 2 ** 20;
  let finished = false;
  let lastSeen = 0;
  const watchdog = setInterval(() => {
    if (checker.received === lastSeen) done('stalled: no event for 15 s');
    lastSeen = checker.received;
  }, STALL_MS);
  const t0 = performance.now();
  const done = (error?: string): void => {
    if (finished) return;
    finished = true;
    const ms = performance.now() - t0;
    clearInterval(watchdog);
    checker.finish();
    const result: ReaderResult = {
      reader: name!,
      ok: checker.ok,
      lost: checker.lost,
      mangled: checker.mangled,
      ms,
      baseRssMiB,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      ...(error !== undefined ? { error } : {}),
    };
    process.send!(result, () => process.exit(0));
  };
  reader({ port: Number(portArg), checker, done });
}

if (require.main === module) main();
