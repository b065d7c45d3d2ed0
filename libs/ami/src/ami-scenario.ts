import { readFileSync } from 'node:fs';
import { AmiError, AmiErrorCode } from './ami.errors';

/**
 * One line of a scenario file: the record shape of the recorded fixtures and of `npm run record`
 * (docs/scenario-format.md). `b64` holds the exact bytes; `text` the same for reading (used when
 * `b64` is absent, for hand-written scenarios).
 */
export interface AmiScenarioRecord {
  seq: number;
  /** Connection number: a new one after each reconnect. */
  conn: number;
  dir: 'rx' | 'tx' | 'meta';
  /** Epoch seconds (fractions allowed). */
  t: number;
  ts?: string;
  len: number;
  b64: string;
  text?: string;
  note?: string;
  /** The line of the file it came from (1-based), for error messages; not written. */
  line?: number;
}

/** Reads and checks a scenario file; errors are AmiError(Scenario) naming the file and line. */
export function loadScenarioFile(file: string): AmiScenarioRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AmiError(AmiErrorCode.Scenario, `cannot read scenario file ${file}: ${reason}`, {
      cause: err,
    });
  }
  return parseScenario(text, file);
}

/**
 * Parses scenario text: one JSON object per line, blank lines and lines starting with `#` or
 * `//` ignored. Needs `dir` (rx, tx or meta); rx/tx need `b64` or `text` (`b64` wins when both
 * are there). `t` must not go back; a record without `t` takes the previous record's (0 for the
 * first). `seq`, `conn` and `len` are filled in when missing; a `len` that differs from the
 * bytes of `b64` is an error (a truncated or edited line).
 */
export function parseScenario(text: string, source = 'scenario'): AmiScenarioRecord[] {
  const out: AmiScenarioRecord[] = [];
  const lines = text.split('\n');
  let lastT = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith('//')) continue;
    const where = `${source}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new AmiError(AmiErrorCode.Scenario, `${where}: not a JSON object (${reason})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: not a JSON object`);
    }
    const r = rec as Record<string, unknown>;
    const dir = r['dir'];
    if (dir !== 'rx' && dir !== 'tx' && dir !== 'meta') {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "dir" must be "rx", "tx" or "meta"`);
    }
    const t = r['t'] === undefined ? Math.max(0, lastT) : r['t'];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "t" must be a number of epoch seconds`);
    }
    if (t < lastT) {
      throw new AmiError(
        AmiErrorCode.Scenario,
        `${where}: "t" goes back in time (${t} after ${lastT})`,
      );
    }
    lastT = t;
    let b64 = r['b64'];
    const txt = r['text'];
    if (b64 !== undefined && typeof b64 !== 'string') {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "b64" must be a base64 string`);
    }
    if (txt !== undefined && typeof txt !== 'string') {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "text" must be a string`);
    }
    if (dir !== 'meta') {
      if (typeof b64 === 'string' && b64 !== '') {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
          throw new AmiError(AmiErrorCode.Scenario, `${where}: "b64" is not valid base64`);
        }
      } else if (typeof txt === 'string' && txt !== '') {
        b64 = Buffer.from(txt, 'utf8').toString('base64');
      } else if (b64 === undefined) {
        throw new AmiError(
          AmiErrorCode.Scenario,
          `${where}: an ${dir} record needs "b64" or "text"`,
        );
      }
    }
    const conn = r['conn'];
    if (conn !== undefined && (typeof conn !== 'number' || !Number.isInteger(conn))) {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "conn" must be an integer`);
    }
    const bytes = typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    const len = r['len'];
    if (len !== undefined && (typeof len !== 'number' || !Number.isInteger(len) || len < 0)) {
      throw new AmiError(AmiErrorCode.Scenario, `${where}: "len" must be an integer >= 0`);
    }
    if (
      typeof len === 'number' &&
      r['b64'] !== undefined &&
      r['b64'] !== '' &&
      len !== bytes.length
    ) {
      throw new AmiError(
        AmiErrorCode.Scenario,
        `${where}: "len" is ${len} but "b64" holds ${bytes.length} bytes`,
      );
    }
    out.push({
      seq: typeof r['seq'] === 'number' ? r['seq'] : out.length + 1,
      conn: typeof conn === 'number' ? conn : 1,
      dir,
      t,
      ts: typeof r['ts'] === 'string' ? r['ts'] : undefined,
      len: bytes.length,
      b64: typeof b64 === 'string' ? b64 : '',
      text: typeof txt === 'string' ? txt : undefined,
      note: typeof r['note'] === 'string' ? r['note'] : undefined,
      line: i + 1,
    });
  }
  return out;
}

/** Serialises one record as a scenario line (no trailing newline), in the fixtures' key order. */
export function formatScenarioRecord(rec: AmiScenarioRecord): string {
  const o: Record<string, unknown> = {
    seq: rec.seq,
    conn: rec.conn,
    dir: rec.dir,
    t: rec.t,
    ts: rec.ts ?? new Date(rec.t * 1000).toISOString(),
    len: rec.len,
    b64: rec.b64,
    text: rec.text ?? Buffer.from(rec.b64, 'base64').toString('utf8'),
  };
  if (rec.note !== undefined) o['note'] = rec.note;
  return JSON.stringify(o);
}

/**
 * Replaces the secrets in written actions with `***`: the value of every `Secret:` line, and of
 * `Key:` lines in a Login (its MD5 key; `Key` is an ordinary field of other actions such as
 * DBGet). Works on one write of whole actions; every other byte stays as it was.
 */
export function redactSecrets(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const isLogin = /(^|\n)[ \t]*action[ \t]*:[ \t]*login[ \t]*\r?(\n|$)/i.test(text);
  const names = isLogin ? 'secret|key' : 'secret';
  const re = new RegExp(`(^|\\n)([ \\t]*)(${names})([ \\t]*:)[^\\r\\n]*`, 'gi');
  if (!re.test(text)) return bytes;
  re.lastIndex = 0;
  const out = text.replace(
    re,
    (_m, start: string, ws: string, name: string, colon: string) =>
      `${start}${ws}${name}${colon} ***`,
  );
  return Buffer.from(out, 'latin1');
}
