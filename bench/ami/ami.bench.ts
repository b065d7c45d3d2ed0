/**
 * `npm run bench:ami`: our AMI decoder against the npm AMI libraries and a raw boundary counter,
 * over loopback TCP, alternating in one run.
 *
 * A child process serves a generated corpus of realistic events (ami-bench-corpus.ts) like
 * Asterisk does (banner, Login answer sharing a read with the first events, chunks cut anywhere);
 * each measured run is another child process (one reader, a clean heap, its own peak RSS). Every
 * reader's consumer hands every key and value of every event to the same check against the
 * generator: a differing event is "mangled", a missing one "lost". Rounds alternate the readers
 * (each once per round, order rotated); figures are the median over rounds.
 *
 * Options: --events N (default 200000), --rounds N (default 3), --seed N, --readers a,b (a subset of
 * the peers, for a quick look; ours and raw always run).
 * The last line: RESULT ours=<events/s> fastest_peer=<name>:<events/s> ratio_peer=<x> ratio_raw=<y> lost=<n> mangled=<n>
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ReaderResult } from './ami-bench-reader';
import { PEERS, READERS } from './ami-bench-readers';

interface Options {
  events: number;
  rounds: number;
  seed: number;
  /** Only these readers (ours and raw are always measured: the RESULT needs them). */
  readers?: string[];
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { events: 200_000, rounds: 3, seed: 20261125 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = Number(argv[i + 1]);
    if (a === '--readers' && argv[i + 1] !== undefined) {
      opts.readers = argv[i + 1]!.split(',');
      for (const r of opts.readers)
        if (!(r in READERS)) throw new Error(`ami.bench: unknown reader ${r}`);
      i += 1;
    } else if (
      (a === '--events' || a === '--rounds' || a === '--seed') &&
      Number.isInteger(v) &&
      v > 0
    ) {
      if (a === '--events') opts.events = v;
      else if (a === '--rounds') opts.rounds = v;
      else opts.seed = v;
      i += 1;
    } else {
      throw new Error(
        `ami.bench: unknown or bad option ${a} (use --events N, --rounds N, --seed N, --readers a,b)`,
      );
    }
  }
  return opts;
}

function once<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) =>
      reject(new Error(`${what} exited (code ${String(code)}) without a result`)),
    );
    child.once('error', reject);
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const server = fork(
    join(__dirname, 'ami-bench-server.js'),
    [String(opts.events), String(opts.seed)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  try {
    const { port, bytes } = await once<{ port: number; bytes: number }>(server, 'the bench server');
    console.log(
      `corpus: ${fmt(opts.events)} events, ${(bytes / 2 ** 20).toFixed(1)} MiB, ` +
        `served on 127.0.0.1:${port}; ${opts.rounds} rounds, node ${process.version}`,
    );
    const names = Object.keys(READERS).filter(
      (n) => n === 'ours' || n === 'raw' || !opts.readers || opts.readers.includes(n),
    );
    const runs = new Map<string, ReaderResult[]>(names.map((n) => [n, []]));
    for (let round = 0; round < opts.rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        const child = fork(
          join(__dirname, 'ami-bench-reader.js'),
          [name, String(port), String(opts.events), String(opts.seed)],
          { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] },
        );
        const r = await once<ReaderResult>(child, `reader ${name}`);
        await new Promise((resolve) => child.once('exit', resolve));
        runs.get(name)!.push(r);
        const rate = ((r.ok + r.mangled) / r.ms) * 1000;
        console.log(
          `round ${round + 1} ${name.padEnd(20)} ${fmt(rate).padStart(10)} events/s ` +
            `${(r.ms / 1000).toFixed(2)} s peak RSS ${r.peakRssMiB.toFixed(0)} MiB ` +
            `lost=${r.lost} mangled=${r.mangled}${r.error ? ` error=${r.error}` : ''}`,
        );
      }
    }
    const summary = new Map<
      string,
      { rate: number; peak: number; lost: number; mangled: number }
    >();
    console.log('');
    console.log(
      `${'reader'.padEnd(20)} ${'events/s'.padStart(10)} ${'vs ours'.padStart(8)} ${'peak RSS'.padStart(9)} ` +
        `${'base RSS'.padStart(9)} ${'lost'.padStart(7)} ${'mangled'.padStart(8)}`,
    );
    for (const [name, rs] of runs) {
      summary.set(name, {
        rate: median(rs.map((r) => ((r.ok + r.mangled) / r.ms) * 1000)),
        peak: Math.max(...rs.map((r) => r.peakRssMiB)),
        lost: Math.max(...rs.map((r) => r.lost)),
        mangled: Math.max(...rs.map((r) => r.mangled)),
      });
    }
    const ours = summary.get('ours')!;
    for (const [name, s] of summary) {
      const base = Math.max(...runs.get(name)!.map((r) => r.baseRssMiB));
      console.log(
        `${name.padEnd(20)} ${fmt(s.rate).padStart(10)} ${(s.rate / ours.rate).toFixed(2).padStart(8)} ` +
          `${`${s.peak.toFixed(0)} MiB`.padStart(9)} ${`${base.toFixed(0)} MiB`.padStart(9)} ` +
          `${String(s.lost).padStart(7)} ${String(s.mangled).padStart(8)}`,
      );
    }
    console.log(
      '(median over rounds; peak RSS includes the expected corpus, which base RSS shows alone)',
    );
    const peers = PEERS.filter((p) => summary.has(p));
    let fastest = peers[0] ?? 'none';
    for (const p of peers) if (summary.get(p)!.rate > summary.get(fastest)!.rate) fastest = p;
    const peer = summary.get(fastest) ?? { rate: NaN };
    const rawRate = summary.get('raw')!.rate;
    console.log(
      `RESULT ours=${Math.round(ours.rate)} fastest_peer=${fastest}:${Math.round(peer.rate)} ` +
        `ratio_peer=${(ours.rate / peer.rate).toFixed(2)} ratio_raw=${(ours.rate / rawRate).toFixed(2)} ` +
        `lost=${ours.lost} mangled=${ours.mangled}`,
    );
  } finally {
    server.kill();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
