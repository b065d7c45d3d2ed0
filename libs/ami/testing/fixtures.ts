import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One line of a recorded trace (`../shared/fixtures/asterisk/*.jsonl`, also what the recorder writes). */
export interface TraceRecord {
  seq: number;
  conn: number;
  dir: 'rx' | 'tx' | 'meta';
  /** Epoch seconds. */
  t: number;
  ts?: string;
  len: number;
  b64: string;
  text?: string;
  note?: string;
}

/**
 * The folder of recorded AMI traces. `MESSAGING_HOST_FIXTURES` overrides; by default it is
 * `../shared/fixtures/asterisk` beside the repository. A missing folder is an error that says where
 * it looked: tests never skip silently.
 */
export function fixturesDir(): string {
  const dir =
    process.env['MESSAGING_HOST_FIXTURES'] ??
    resolve(__dirname, repoRootFromHere(), '..', 'shared', 'fixtures', 'asterisk');
  if (!existsSync(dir)) {
    throw new Error(
      `AMI fixtures not found at ${dir}: clone the repository beside shared/ or set MESSAGING_HOST_FIXTURES`,
    );
  }
  return dir;
}

/** This file runs from libs/ami/testing (ts) or dist/libs/ami/testing (js): find the repository root. */
function repoRootFromHere(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'libs'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

/** Names of the recorded scenarios (file names without .jsonl), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(fixturesDir())
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -'.jsonl'.length))
    .sort();
}

export function fixturePath(name: string): string {
  return join(fixturesDir(), name.endsWith('.jsonl') ? name : `${name}.jsonl`);
}

/** Parses a trace file (jsonl, one record per line; blank lines ignored). */
export function parseTrace(text: string, source = 'trace'): TraceRecord[] {
  const out: TraceRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new Error(`${source}:${i + 1}: not a JSON line`);
    }
    const r = rec as Partial<TraceRecord>;
    if (
      typeof r.dir !== 'string' ||
      !['rx', 'tx', 'meta'].includes(r.dir) ||
      typeof r.t !== 'number' ||
      (r.dir !== 'meta' && typeof r.b64 !== 'string')
    ) {
      throw new Error(`${source}:${i + 1}: a trace record needs dir (rx|tx|meta), t and b64`);
    }
    out.push({
      seq: typeof r.seq === 'number' ? r.seq : out.length + 1,
      conn: typeof r.conn === 'number' ? r.conn : 1,
      dir: r.dir,
      t: r.t,
      ts: r.ts,
      len: typeof r.len === 'number' ? r.len : 0,
      b64: r.b64 ?? '',
      text: r.text,
      note: r.note,
    });
  }
  return out;
}

export function readTrace(name: string): TraceRecord[] {
  const path = fixturePath(name);
  return parseTrace(readFileSync(path, 'utf8'), path);
}

/** The bytes Asterisk sent, per connection, in order (each element one socket read). */
export function rxChunks(records: readonly TraceRecord[], conn?: number): Buffer[] {
  return records
    .filter((r) => r.dir === 'rx' && (conn === undefined || r.conn === conn))
    .map((r) => Buffer.from(r.b64, 'base64'));
}
