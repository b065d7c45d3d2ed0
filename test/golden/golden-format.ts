// The golden-file format of the Asterisk call tracker (test/golden/README.md): parse a
// `<fixture>.expected` file, print one event, and compare the client events a replay produced with
// the expected ones, line by line. The expected files are written by reading the traces, never by
// running the tracker; this file is the contract between them and the replay harness.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CallDirection, type Call } from '@app/messaging';

/** The event types a golden file may expect (PROTOCOL.md numbers). */
export const GOLDEN_EVENT_TYPES: ReadonlySet<number> = new Set([5, 6, 7, 8, 9, 11, 13, 17]);

/** Names of the event types, for readable differences. */
export const GOLDEN_EVENT_NAMES: Readonly<Record<number, string>> = {
  5: 'RING_STARTED',
  6: 'RING_FINISHED',
  7: 'COMMUTATION_STARTED',
  8: 'PUT_HOLD_ACTION',
  9: 'END_HOLD_ACTION',
  11: 'LINE_STATE_CHANGED',
  13: 'ABONENT_BUSY',
  17: 'CALL_INFO_CHANGED',
};

/** Keys `@config` accepts: the seed's asterisk block (those that shape calls) and `canAnswer`. */
export const GOLDEN_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'protocol',
  'queueExtensionFormat',
  'sendRingStartedOnRingingState',
  'originateContext',
  'parkingLotContext',
  'asyncOriginate',
  'autoPauseOnCommutationStart',
  'traceQueuesState',
  'packetInfoConfig',
  'canAnswer',
]);

export type GoldenDirection = 'IN' | 'OUT' | 'UNKNOWN';

/** One expected client event. Call events carry every call field; event 11 only features/callId. */
export interface GoldenEvent {
  /** The line (the Call's deviceId). */
  line: string;
  eventType: number;
  /** Symbolic call id (call events). */
  id?: string;
  state?: number;
  oldState?: number;
  direction?: GoldenDirection;
  callerId?: string;
  calledId?: string;
  callFeaturesSet: number;
  /** Event 11 only: symbolic id of the call whose buttons change; absent = the line itself. */
  callId?: string;
  /** `file:line` of the event in its golden file. */
  source: string;
}

export interface GoldenFile {
  /** Keys of the asterisk config block that differ from the defaults. */
  config: Record<string, string>;
  /** Lines whose event sequences are compared (a listed line with no events must get none). */
  lines: string[];
  events: GoldenEvent[];
  /** The name the file was parsed under. */
  source: string;
}

/** An event the tracker produced, as the harness collects it. */
export interface GoldenActualEvent {
  line: string;
  eventType: number;
  /** The Call of a call event. */
  call?: Pick<
    Call,
    'id' | 'deviceId' | 'state' | 'oldState' | 'direction' | 'callerId' | 'calledId'
  > & { callFeaturesSet?: number };
  /** Event 11: the features of the line (or of `callId`). */
  callFeaturesSet?: number;
  /** Event 11: the call concerned, when any. */
  callId?: string;
}

/** Thrown by parseGoldenFile; `message` names the file and line. */
export class GoldenFormatError extends Error {
  constructor(
    readonly source: string,
    readonly lineNo: number,
    readonly reason: string,
  ) {
    super(`${source}:${lineNo}: ${reason}`);
    this.name = 'GoldenFormatError';
  }
}

const CALL_KEYS = ['id', 'state', 'old', 'dir', 'caller', 'called', 'features'] as const;
const LINE_STATE_KEYS = ['features', 'callId'] as const;
const SYMBOL = /^[A-Za-z][A-Za-z0-9_]*$/;
const LINE_NAME = /^[A-Za-z0-9_.+-]+$/;
const DIRECTIONS: readonly GoldenDirection[] = ['IN', 'OUT', 'UNKNOWN'];

/**
 * What state (and old state) each call event type allows (PROTOCOL.md, "State -> event").
 * Written here from the protocol, not imported from the tracker's model, so that a golden file
 * cannot agree with a wrong model by construction.
 */
function checkTransition(eventType: number, state: number, old: number): string | undefined {
  const name = GOLDEN_EVENT_NAMES[eventType];
  switch (eventType) {
    case 5:
      return state === 1 ? undefined : `${name} needs state=1 (ALERTING)`;
    case 6:
      return state === 0 ? undefined : `${name} needs state=0 (NONE)`;
    case 7:
      if (state !== 2) return `${name} needs state=2 (CONNECTED)`;
      return old === 3 ? `${name} from HOLDED is END_HOLD_ACTION (9)` : undefined;
    case 8:
      return state === 3 ? undefined : `${name} needs state=3 (HOLDED)`;
    case 9:
      return state === 2 && old === 3 ? undefined : `${name} needs state=2 old=3`;
    case 13:
      return state === 6 ? undefined : `${name} needs state=6 (BUSY)`;
    default:
      return undefined; // 17 CALL_INFO_CHANGED: any state
  }
}

function parseInteger(raw: string, what: string, max: number): number | string {
  if (!/^\d+$/.test(raw)) return `${what} must be a non-negative integer, got "${raw}"`;
  const n = Number(raw);
  return n > max ? `${what} must be at most ${max}, got ${n}` : n;
}

/** Parses a golden file. Throws GoldenFormatError naming `source:line` on the first bad line. */
export function parseGoldenFile(text: string, source: string): GoldenFile {
  const file: GoldenFile = { config: {}, lines: [], events: [], source };
  const lineDeclared = new Map<string, number>();
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const lineNo = i + 1;
    const fail = (reason: string): never => {
      throw new GoldenFormatError(source, lineNo, reason);
    };
    const hash = rows[i]!.indexOf('#');
    const body = (hash >= 0 ? rows[i]!.slice(0, hash) : rows[i]!).trim();
    if (body === '') continue;
    const words = body.split(/\s+/);
    const head = words[0]!;

    if (head === '@config') {
      if (words.length < 2) fail('@config needs key=value pairs');
      for (const pair of words.slice(1)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) fail(`@config: "${pair}" is not key=value`);
        const key = pair.slice(0, eq);
        if (!GOLDEN_CONFIG_KEYS.has(key)) {
          fail(`@config: unknown key "${key}" (known: ${[...GOLDEN_CONFIG_KEYS].join(', ')})`);
        }
        if (key in file.config) fail(`@config: "${key}" given twice`);
        file.config[key] = pair.slice(eq + 1);
      }
      continue;
    }
    if (head === '@line') {
      if (words.length < 2) fail('@line needs at least one line name');
      for (const name of words.slice(1)) {
        if (!LINE_NAME.test(name)) fail(`@line: "${name}" is not a line name`);
        if (lineDeclared.has(name)) {
          fail(`@line: ${name} already listed at ${source}:${lineDeclared.get(name)}`);
        }
        lineDeclared.set(name, lineNo);
        file.lines.push(name);
      }
      continue;
    }
    if (head.startsWith('@')) fail(`unknown directive "${head}" (known: @config, @line)`);

    // An event: <line> <eventType> key=value...
    if (!LINE_NAME.test(head)) fail(`"${head}" is not a line name`);
    if (words.length < 2) fail('an event needs a line, an event type and key=value fields');
    const type = parseInteger(words[1]!, 'event type', 99);
    if (typeof type === 'string') fail(type);
    const eventType = type as number;
    if (!GOLDEN_EVENT_TYPES.has(eventType)) {
      fail(`event type ${eventType} is not one a golden file compares (5,6,7,8,9,11,13,17)`);
    }
    const fields = new Map<string, string>();
    for (const pair of words.slice(2)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) fail(`"${pair}" is not key=value`);
      const key = pair.slice(0, eq);
      if (fields.has(key)) fail(`"${key}" given twice`);
      fields.set(key, pair.slice(eq + 1));
    }
    const allowed: readonly string[] = eventType === 11 ? LINE_STATE_KEYS : CALL_KEYS;
    for (const key of fields.keys()) {
      if (!allowed.includes(key)) {
        fail(`unknown field "${key}" for event ${eventType} (allowed: ${allowed.join(', ')})`);
      }
    }
    const features = fields.get('features');
    if (features === undefined) fail('missing field "features"');
    const callFeaturesSet = parseInteger(features!, 'features', 0xffff);
    if (typeof callFeaturesSet === 'string') fail(callFeaturesSet);
    const event: GoldenEvent = {
      line: head,
      eventType,
      callFeaturesSet: callFeaturesSet as number,
      source: `${source}:${lineNo}`,
    };
    if (eventType === 11) {
      const callId = fields.get('callId');
      if (callId !== undefined) {
        if (!SYMBOL.test(callId)) fail(`callId "${callId}" is not a symbol (A, B, C1 ...)`);
        event.callId = callId;
      }
    } else {
      for (const key of CALL_KEYS) if (!fields.has(key)) fail(`missing field "${key}"`);
      const id = fields.get('id')!;
      if (!SYMBOL.test(id)) fail(`id "${id}" is not a symbol (A, B, C1 ...)`);
      const state = parseInteger(fields.get('state')!, 'state', 6);
      if (typeof state === 'string') fail(state);
      const old = parseInteger(fields.get('old')!, 'old', 6);
      if (typeof old === 'string') fail(old);
      const dir = fields.get('dir')!;
      if (!DIRECTIONS.includes(dir as GoldenDirection)) fail(`dir must be IN, OUT or UNKNOWN`);
      const bad = checkTransition(eventType, state as number, old as number);
      if (bad) fail(bad);
      event.id = id;
      event.state = state as number;
      event.oldState = old as number;
      event.direction = dir as GoldenDirection;
      event.callerId = fields.get('caller')!;
      event.calledId = fields.get('called')!;
    }
    file.events.push(event);
  }
  for (const e of file.events) {
    if (!lineDeclared.has(e.line)) {
      const lineNo = Number(e.source.slice(e.source.lastIndexOf(':') + 1));
      throw new GoldenFormatError(source, lineNo, `line ${e.line} is not listed by any @line`);
    }
  }
  if (file.lines.length === 0) {
    throw new GoldenFormatError(source, 1, 'no @line: a golden file lists the lines it compares');
  }
  return file;
}

/**
 * The folder of the golden files in the sources (`test/golden`), found from this file whether it
 * runs as TypeScript or compiled under dist/. Throws, saying where it looked, when it is missing.
 */
export function goldenDir(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    const candidate = join(d, 'test', 'golden');
    if (existsSync(join(d, 'package.json')) && existsSync(join(candidate, 'README.md'))) {
      return candidate;
    }
    if (dirname(d) === d)
      throw new Error(`no test/golden/README.md in any folder above ${__dirname}`);
  }
}

/** Reads and parses `test/golden/<fixture>.expected`; a missing file is an error naming it. */
export function loadGoldenFile(fixture: string): GoldenFile {
  const name = `${fixture}.expected`;
  const path = join(goldenDir(), name);
  if (!existsSync(path)) throw new Error(`no golden file ${path} for the fixture ${fixture}`);
  return parseGoldenFile(readFileSync(path, 'utf8'), name);
}

/** The canonical text of an expected event (the form a golden file uses). */
export function formatGoldenEvent(e: Omit<GoldenEvent, 'source'>): string {
  if (e.eventType === 11) {
    return `${e.line} 11 features=${e.callFeaturesSet}${e.callId ? ` callId=${e.callId}` : ''}`;
  }
  return (
    `${e.line} ${e.eventType} id=${e.id} state=${e.state} old=${e.oldState} dir=${e.direction}` +
    ` caller=${e.callerId} called=${e.calledId} features=${e.callFeaturesSet}`
  );
}

function directionName(guid: string | undefined): string {
  switch (guid) {
    case CallDirection.IN:
      return 'IN';
    case CallDirection.OUT:
      return 'OUT';
    case CallDirection.UNKNOWN:
      return 'UNKNOWN';
    case 'IN':
    case 'OUT':
    case 'UNKNOWN':
      return guid; // already a name (a harness that decoded the GUID itself)
    default:
      return `?${String(guid)}`;
  }
}

/** An actual event in golden form; real ids are shown as their symbol when bound (`A=<real>`). */
export function formatActualEvent(
  a: GoldenActualEvent,
  symbolOf: ReadonlyMap<string, string> = new Map(),
): string {
  const show = (real: string | undefined): string =>
    real === undefined ? '<none>' : symbolOf.has(real) ? `${symbolOf.get(real)}(${real})` : real;
  if (a.eventType === 11) {
    const f = a.callFeaturesSet ?? a.call?.callFeaturesSet;
    return `${a.line} 11 features=${f}${a.callId ? ` callId=${show(a.callId)}` : ''}`;
  }
  const c = a.call;
  if (!c) return `${a.line} ${a.eventType} <no call>`;
  const device = c.deviceId === a.line ? '' : ` deviceId=${c.deviceId}`;
  return (
    `${a.line} ${a.eventType} id=${show(c.id)} state=${c.state} old=${c.oldState}` +
    ` dir=${directionName(c.direction)} caller=${c.callerId} called=${c.calledId}` +
    ` features=${c.callFeaturesSet ?? a.callFeaturesSet}${device}`
  );
}

/** Symbol <-> real id binding shared by every line of one comparison. */
class IdBinding {
  private readonly realOf = new Map<string, { real: string; at: string }>();
  readonly symbolOf = new Map<string, string>();

  /** Binds or checks; returns a difference or undefined. */
  check(symbol: string, real: string | undefined, at: string, what: string): string | undefined {
    if (real === undefined || real === '') return `${what}: expected ${symbol}, got no id`;
    const bound = this.realOf.get(symbol);
    if (bound) {
      if (bound.real === real) return undefined;
      const other = this.symbolOf.get(real);
      return (
        `${what}: id changed: ${symbol} is "${bound.real}" (bound at ${bound.at}), got "${real}"` +
        (other ? ` (which is ${other})` : '')
      );
    }
    const other = this.symbolOf.get(real);
    if (other !== undefined) {
      return (
        `${what}: expected a call distinct from ${other}, got the same id "${real}" ` +
        `(${other} bound at ${this.realOf.get(other)!.at})`
      );
    }
    this.realOf.set(symbol, { real, at });
    this.symbolOf.set(real, symbol);
    return undefined;
  }
}

/** Field values of an actual event, in golden terms (ids aside). */
function actualFields(a: GoldenActualEvent): Record<string, string> {
  if (a.eventType === 11) {
    return {
      features: String(a.callFeaturesSet ?? a.call?.callFeaturesSet),
      callId: a.callId ? 'set' : 'none',
    };
  }
  const c = a.call;
  return {
    state: String(c?.state),
    old: String(c?.oldState),
    dir: directionName(c?.direction),
    caller: String(c?.callerId),
    called: String(c?.calledId),
    features: String(c?.callFeaturesSet ?? a.callFeaturesSet),
    deviceId: String(c?.deviceId),
  };
}

function expectedFields(e: GoldenEvent): Record<string, string> {
  if (e.eventType === 11) {
    return { features: String(e.callFeaturesSet), callId: e.callId ? 'set' : 'none' };
  }
  return {
    state: String(e.state),
    old: String(e.oldState),
    dir: String(e.direction),
    caller: String(e.callerId),
    called: String(e.calledId),
    features: String(e.callFeaturesSet),
    deviceId: e.line,
  };
}

function fieldDiffs(e: GoldenEvent, a: GoldenActualEvent): string[] {
  if (a.eventType !== e.eventType) {
    return [`event type: expected ${e.eventType}, got ${a.eventType}`];
  }
  if (e.eventType !== 11 && !a.call) return ['no call in the event'];
  const want = expectedFields(e);
  const got = actualFields(a);
  const out: string[] = [];
  for (const key of Object.keys(want)) {
    if (want[key] !== got[key]) {
      out.push(
        key === 'callId'
          ? `callId: expected ${e.callId ?? 'none'}, got ${a.callId ?? 'none'}`
          : `${key}: expected ${want[key]}, got ${got[key]}`,
      );
    }
  }
  return out;
}

/** Longest common subsequence of events equal in every field but ids; returns matched pairs. */
function align(exp: GoldenEvent[], act: GoldenActualEvent[]): Array<[number, number]> {
  const n = exp.length;
  const m = act.length;
  const same = (i: number, j: number): boolean => fieldDiffs(exp[i]!, act[j]!).length === 0;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i]![j] = same(i, j)
        ? len[i + 1]![j + 1]! + 1
        : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
    }
  }
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(i, j) && len[i]![j] === len[i + 1]![j + 1]! + 1) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/**
 * Compares the events a replay produced with a golden file. Only event types a golden file
 * knows (GOLDEN_EVENT_TYPES) are compared; others (agent state, raw data ...) are ignored.
 * Returns readable differences, empty when everything matches. Per line, in the order of the
 * file's @line list: events are aligned in order; an event the file expects and the replay did
 * not produce is "missing", the reverse "extra", an aligned pair that differs names each field.
 * Symbolic ids bind to the first real id they meet (across all lines); the same symbol meeting
 * another id, or two symbols meeting one id, is a difference. Events on a line the file does not
 * list are differences too.
 */
export function compareGolden(expected: GoldenFile, actual: GoldenActualEvent[]): string[] {
  const out: string[] = [];
  const ids = new IdBinding();
  const relevant = actual.filter((a) => GOLDEN_EVENT_TYPES.has(a.eventType));
  const listed = new Set(expected.lines);

  for (const line of expected.lines) {
    const exp = expected.events.filter((e) => e.line === line);
    const act = relevant.filter((a) => a.line === line);
    const pairs = align(exp, act);
    pairs.push([exp.length, act.length]); // sentinel: the gap after the last match
    let i = 0;
    let j = 0;
    const checkIds = (e: GoldenEvent, a: GoldenActualEvent, what: string): void => {
      if (e.eventType === 11) {
        if (e.callId && a.callId) {
          const d = ids.check(e.callId, a.callId, e.source, `${what} callId`);
          if (d) out.push(d);
        }
        return;
      }
      const d = ids.check(e.id!, a.call?.id, e.source, what);
      if (d) out.push(d);
    };
    for (const [pi, pj] of pairs) {
      // The gap before this match: pair expected and actual events of the same type in order
      // (a wrong field), the rest are missing or extra.
      while (i < pi || j < pj) {
        const e = i < pi ? exp[i] : undefined;
        const a = j < pj ? act[j] : undefined;
        if (e && a && e.eventType === a.eventType) {
          const what = `line ${line}, expected event #${i + 1} (${e.source}) ${GOLDEN_EVENT_NAMES[e.eventType]}`;
          for (const d of fieldDiffs(e, a)) out.push(`${what}: ${d}`);
          checkIds(e, a, what);
          i++;
          j++;
        } else if (e && (!a || pi - i >= pj - j)) {
          out.push(
            `line ${line}: missing event #${i + 1} (${e.source}): ${formatGoldenEvent(e)}` +
              (a ? ` (got instead: ${formatActualEvent(a, ids.symbolOf)})` : ''),
          );
          i++;
        } else if (a) {
          out.push(
            `line ${line}: extra event (actual #${j + 1}): ${formatActualEvent(a, ids.symbolOf)}`,
          );
          j++;
        }
      }
      if (pi < exp.length) {
        const e = exp[pi]!;
        checkIds(
          e,
          act[pj]!,
          `line ${line}, event #${pi + 1} (${e.source}) ${GOLDEN_EVENT_NAMES[e.eventType]}`,
        );
      }
      i = pi + 1;
      j = pj + 1;
    }
  }
  const strays = relevant.filter((a) => !listed.has(a.line));
  for (const a of strays) {
    out.push(
      `line ${a.line} is not listed in ${expected.source} but got: ${formatActualEvent(a, ids.symbolOf)}`,
    );
  }
  return out;
}
