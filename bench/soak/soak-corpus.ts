/**
 * The soak's call templates, built from the recorded traces as bench/calls does, but kept as
 * steps in recorded time: the packets Asterisk sent (events, and the answers to the actions a
 * service would send) and, between them, the actions themselves. `instanceOf` rewrites a template
 * into one always-unique call: Uniqueids, Linkedids, channel names, bridge ids, caller numbers and
 * parking spaces never seen before, operator lines 305/306 moved to the two lines it was given.
 */
import { readTrace } from '@app/ami/testing';

/** What a call of this template is (the trace it is copied from). */
export const SOAK_TRACES = [
  'c_inbound_answered',
  'd_inbound_missed',
  'f_queue_pause',
  'e1_park_unpark',
  'g1_blindtransfer_action',
  'g3_atxfer',
  'b1_originate_to_600',
  'b2_originate_click_to_call',
] as const;

/** Actions a service sends (on a panel's command, or by itself); the others are the recorder's. */
export const SERVICE_ACTIONS = new Set([
  'originate',
  'park',
  'hangup',
  'blindtransfer',
  'atxfer',
  'queuepause',
]);

export type SoakStep =
  | { kind: 'rx'; t: number; text: string; event: boolean }
  | { kind: 'tx'; t: number; action: string; actionId: string; fields: Map<string, string> };

export interface SoakTemplate {
  name: string;
  steps: SoakStep[];
}

function headers(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return out;
}

/** The steps of a trace's first connection after login (FullyBooted and the recorder's own actions left out). */
export function templateOf(name: string): SoakTemplate {
  const records = readTrace(name).filter((r) => r.conn === 1);
  const skipIds = new Set<string>();
  const steps: SoakStep[] = [];
  let buf = '';
  for (const r of records) {
    if (r.dir === 'tx') {
      const text = Buffer.from(r.b64, 'base64').toString('latin1');
      const h = headers(text);
      const action = (h.get('action') ?? '').toLowerCase();
      const actionId = h.get('actionid') ?? '';
      if (!SERVICE_ACTIONS.has(action)) {
        skipIds.add(actionId);
        continue;
      }
      steps.push({ kind: 'tx', t: r.t, action, actionId, fields: h });
    } else if (r.dir === 'rx') {
      buf += Buffer.from(r.b64, 'base64').toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const text = buf.slice(0, end + 4).replace(/^(\r?\n)+/, '');
        buf = buf.slice(end + 4);
        if (!/^(Event|Response): /.test(text)) continue; // the banner
        const h = headers(text);
        if (h.get('event') === 'FullyBooted') continue;
        const id = h.get('actionid');
        if (id !== undefined && skipIds.has(id)) continue;
        // A Login answer comes before the recorder's Login tx is seen as skipped: by its id.
        if (id !== undefined && /^(login|logoff|queuestatus)-/.test(id)) continue;
        steps.push({ kind: 'rx', t: r.t, text, event: h.has('event') });
      }
    }
  }
  // Nothing before the first event or action: the call starts at its first step.
  return { name, steps };
}

export interface CallIds {
  /** A number never used before (unique per call). */
  k: number;
  lineA: string;
  lineB: string;
}

/** One unique call of a template: its steps' texts and action fields rewritten. */
export interface SoakInstance {
  template: string;
  ids: CallIds;
  steps: SoakStep[];
}

const UID_RE = /\b1795582(\d{3})\.(\d+)\b/g;
const CHAN_RE = /-([0-9a-f]{8})(;[12])?\b/g;
const UUID_RE = /\b[0-9a-f]{8}-([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;
const NUMBER_RE = /\b(9?)(79\d{9})\b/g;
const LINE_A_RE = /\b305\b/g;
const LINE_B_RE = /\b306\b/g;
const SPACE_RE = /\b70(\d)\b/g;

export function instanceOf(t: SoakTemplate, ids: CallIds): SoakInstance {
  const { k } = ids;
  const hex = k.toString(16).padStart(6, '0');
  const numbers = new Map<string, string>();
  const numberFor = (n: string): string => {
    let out = numbers.get(n);
    if (!out) {
      out = `7${String(k * 8 + numbers.size).padStart(10, '0')}`;
      numbers.set(n, out);
    }
    return out;
  };
  const space = 10_000 + (k % 50_000) * 10;
  const rw = (s: string): string =>
    s
      .replace(
        UID_RE,
        (_m, d3: string, seq: string) => `${2_000_000_000 + k * 1000 + Number(d3)}.${seq}`,
      )
      .replace(CHAN_RE, (_m, h: string, half?: string) => `-${hex}${h.slice(6)}${half ?? ''}`)
      .replace(UUID_RE, `${hex}00-$1`)
      .replace(NUMBER_RE, (_m, nine: string, n: string) => `${nine}${numberFor(n)}`)
      .replace(LINE_A_RE, ids.lineA)
      .replace(LINE_B_RE, ids.lineB)
      .replace(SPACE_RE, (_m, d: string) => String(space + Number(d)));
  const steps = t.steps.map((s): SoakStep => {
    if (s.kind === 'rx') return { ...s, text: rw(s.text) };
    const fields = new Map<string, string>();
    for (const [key, v] of s.fields) fields.set(key, rw(v));
    return { ...s, fields };
  });
  return { template: t.name, ids, steps };
}

/** Every template, read once. */
export function loadTemplates(): SoakTemplate[] {
  return SOAK_TRACES.map(templateOf);
}
