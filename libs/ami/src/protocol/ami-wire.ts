/**
 * Owns the byte-level helpers of the AMI decoder: where packets end in a buffer, whether a packet
 * is an old-style command answer, ActionID spotting, and Node's direct latin1/UTF-8 slicers.
 * Pure functions, no state; shared by ami-decoder.ts, ami-line-reader.ts and ami-follows.ts.
 */
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const TAB = 0x09;
export const END_COMMAND = '--END COMMAND--';

/** 1 when buf[pos..pos+8) is `ActionID`, 2 when it is in another case, else 0. */
export function actionIdAt(buf: Buffer, pos: number): number {
  let exact = 1;
  for (let j = 0; j < 8; j++) {
    const c = buf[pos + j]!;
    const e = ACTION_ID.charCodeAt(j);
    if (c === e) continue;
    // Every character of ActionID is a letter: equal in another case when equal with bit 0x20 set.
    if ((c | 0x20) !== (e | 0x20)) return 0;
    exact = 2;
  }
  return exact;
}
const ACTION_ID = 'ActionID';

/** Whether a header name is `Response` in any case. */
export function isResponse(key: string): boolean {
  return key.length === 8 && key.toLowerCase() === 'response';
}

interface SliceBuffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<SliceBuffer>;
/** Node's own Buffer slicers (what toString calls after checking its arguments), when present. */
const direct = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';

export function latin1(buf: Buffer, start: number, end: number): string {
  return direct
    ? (buf as unknown as SliceBuffer).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}

export function utf8(buf: Buffer, start: number, end: number): string {
  return direct
    ? (buf as unknown as SliceBuffer).utf8Slice(start, end)
    : buf.toString('utf8', start, end);
}

/** Index just past the last empty line (LF LF or LF CR LF) in buf, or -1. */
export function lastPacketEnd(buf: Buffer): number {
  // Backwards over the bytes: the last packet end is usually within the last packet's length.
  for (let i = buf.length - 1; i > 0; i--) {
    if (buf[i] !== LF) continue;
    const p = buf[i - 1];
    if (p === LF || (p === CR && i > 1 && buf[i - 2] === LF)) return i + 1;
  }
  return -1;
}

/** Index just past the first empty line whose ending LF is after `from`, or -1. */
export function firstPacketEnd(buf: Buffer, from: number): number {
  const n = buf.length;
  for (let i = from + 1; i < n; i++) {
    if (buf[i] !== LF) continue;
    const p = buf[i - 1];
    if (p === LF || (p === CR && i - 2 >= from && buf[i - 2] === LF)) return i + 1;
  }
  return -1;
}

/** Whether the packet at pos starts with the line `Response: Follows` (key in any case). */
export function isFollows(buf: Buffer, pos: number): boolean {
  const c = buf[pos];
  if (c !== 0x52 && c !== 0x72) return false;
  const nl = buf.indexOf(LF, pos);
  const end = nl === -1 ? buf.length : nl;
  const line = buf.toString('latin1', pos, end);
  const colon = line.indexOf(':');
  if (colon === -1 || line.slice(0, colon).replace(/ +$/, '').toLowerCase() !== 'response')
    return false;
  let v = line.slice(colon + 1).replace(/^[ \t]+/, '');
  if (v.endsWith('\r')) v = v.slice(0, -1);
  return v === 'Follows';
}
