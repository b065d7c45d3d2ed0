/**
 * The call benchmark's corpus: the broadcast events of the recorded call traces (inbound, missed,
 * queue ringall with Local channels, park/unpark, blind and attended transfer, originate), copied
 * many times with fresh Uniqueids, channel names, bridge ids and lines, and interleaved so that
 * many calls are up at once, as on a busy PBX. Coherent calls, so the tracker does its full work.
 */
import { readTrace, rxChunks } from '@app/ami/testing';

const CALL_TRACES = [
  'c_inbound_answered',
  'd_inbound_missed',
  'f_queue_pause',
  'e1_park_unpark',
  'g1_blindtransfer_action',
  'g3_atxfer',
  'b1_originate_to_600',
  'b2_originate_click_to_call',
];

/** Broadcast event blocks of a trace (answers to the recorder's actions left out). */
function eventBlocks(name: string): string[] {
  const text = Buffer.concat(rxChunks(readTrace(name))).toString('utf8');
  return text
    .split('\r\n\r\n')
    .map((b) => b.replace(/^\r?\n+/, ''))
    .filter((b) => b.startsWith('Event: ') && !/\r\nActionID: (?!originate)/.test(b))
    .filter((b) => !b.startsWith('Event: FullyBooted'));
}

/** One copy of a call: unique ids and names, lines moved to `lineA`/`lineB`. */
function copyOf(blocks: readonly string[], k: number, lineA: number, lineB: number): string[] {
  const hex = k.toString(16).padStart(6, '0');
  return blocks.map((b) =>
    b
      .replace(/\b1795582(\d{3})\.(\d+)\b/g, `9${k}$1.$2`)
      .replace(/-([0-9a-f]{8});?([12])?\b/g, (_m, h: string, half?: string) =>
        half ? `-${hex}${h.slice(6)};${half}` : `-${hex}${h.slice(6)}`,
      )
      .replace(/\b[0-9a-f]{8}-([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g, `${hex}00-$1`)
      .replace(/\b305\b/g, String(lineA))
      .replace(/\b306\b/g, String(lineB)),
  );
}

export interface CallsCorpus {
  /** The AMI byte stream (events only), as Asterisk would send it after login. */
  bytes: Buffer;
  events: number;
  calls: number;
}

/**
 * `calls` copies of the traces' calls, `concurrent` of them interleaved packet by packet at any
 * time, on lines 1000.. (two per copy).
 */
export function buildCallsCorpus(calls = 6000, concurrent = 200): CallsCorpus {
  const templates = CALL_TRACES.map(eventBlocks);
  const out: string[] = [];
  let events = 0;
  for (let start = 0; start < calls; start += concurrent) {
    const group: string[][] = [];
    for (let k = start; k < Math.min(calls, start + concurrent); k++) {
      const lineA = 1000 + ((2 * k) % 4000);
      group.push(copyOf(templates[k % templates.length]!, k, lineA, lineA + 1));
    }
    // Round-robin: one packet of each live call in turn.
    for (let i = 0; group.some((g) => i < g.length); i++) {
      for (const g of group) {
        if (i < g.length) {
          out.push(g[i]!);
          events += 1;
        }
      }
    }
  }
  return { bytes: Buffer.from(out.join('\r\n\r\n') + '\r\n\r\n', 'utf8'), events, calls };
}
