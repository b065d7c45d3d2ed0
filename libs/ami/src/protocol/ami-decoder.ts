import { AmiError, AmiErrorCode } from '../ami.errors';
import { AmiPacket } from './ami-packet';

export interface AmiDecoderHandlers {
  /** The banner line (`Asterisk Call Manager/9.0.0`): version `9.0.0` and the whole line. */
  onBanner?(version: string, line: string): void;
  onPacket(packet: AmiPacket): void;
  /** A protocol error: the decoder stops until reset(); the owner resets the connection. */
  onError(error: AmiError): void;
}

export interface AmiDecoderOptions {
  /** The largest packet (or banner) in bytes; larger is a protocol error. Default 1 MiB. */
  maxPacketBytes?: number;
  /** Whether the stream starts with the banner line (a socket: yes). Default true. */
  expectBanner?: boolean;
}

export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;
const MAX_BANNER_BYTES = 1024;
const LF = 0x0a;
const END_COMMAND = '--END COMMAND--';
/** `Asterisk Call Manager/9.0.0`, also proxies' `... Call Manager Proxy/1.2`. */
const BANNER = /^([^:\r\n]*?)\/([0-9][^\s]*)\s*$/;

/**
 * A pure push decoder for AMI (no I/O): feed it Buffers as they come, split anywhere (mid-line,
 * mid-CRLF, mid-UTF-8 character), many packets per chunk; it calls onPacket per packet in order.
 * Packets end with an empty line; CRLF and bare LF line ends are both accepted. The old command
 * form (`Response: Follows` ... `--END COMMAND--`) is read whole even when its output has empty
 * lines. Unfinished input is kept up to maxPacketBytes; more is a protocol error, after which the
 * decoder holds nothing and ignores input until reset().
 */
export class AmiDecoder {
  private readonly max: number;
  private readonly expectBanner: boolean;
  private bannerSeen = false;
  private pending: Buffer | null = null;
  /** Bytes of `pending` already searched for a packet end (minus the overlap of a terminator). */
  private scanned = 0;
  private failed = false;

  constructor(
    private readonly handlers: AmiDecoderHandlers,
    options: AmiDecoderOptions = {},
  ) {
    const max = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    if (!(Number.isInteger(max) && max > 0)) {
      throw new RangeError(
        `maxPacketBytes must be a positive integer (got ${String(options.maxPacketBytes)})`,
      );
    }
    this.max = max;
    this.expectBanner = options.expectBanner ?? true;
  }

  /** Bytes held while waiting for the rest of a packet (never more than maxPacketBytes). */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Whether a protocol error stopped the decoder (until reset()). */
  get isFailed(): boolean {
    return this.failed;
  }

  /** Forgets everything: for a new connection. */
  reset(): void {
    this.pending = null;
    this.scanned = 0;
    this.failed = false;
    this.bannerSeen = false;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    let buf: Buffer;
    let scanFrom: number;
    if (this.pending === null) {
      buf = chunk;
      scanFrom = 0;
    } else {
      buf = Buffer.concat([this.pending, chunk]);
      scanFrom = this.scanned;
      this.pending = null;
    }
    let start = 0;
    if (this.expectBanner && !this.bannerSeen) {
      const nl = buf.indexOf(LF);
      if (nl === -1) {
        if (buf.length > MAX_BANNER_BYTES)
          return this.fail(`no AMI banner in the first ${MAX_BANNER_BYTES} bytes`);
        this.keep(buf, 0);
        return;
      }
      let end = nl;
      if (end > 0 && buf[end - 1] === 0x0d) end -= 1;
      const line = buf.toString('utf8', 0, end);
      const m = BANNER.exec(line);
      if (!m)
        return this.fail(
          `the peer is not an AMI server: its first line is not a banner like "Asterisk Call Manager/9.0.0"`,
        );
      this.bannerSeen = true;
      this.handlers.onBanner?.(m[2]!, line);
      if (this.failed) return;
      start = nl + 1;
      scanFrom = start;
    }
    this.decode(buf, start, Math.max(start, scanFrom));
  }

  private decode(buf: Buffer, start: number, scanFrom: number): void {
    const end = lastPacketEnd(buf, start, scanFrom);
    if (end === -1) {
      this.keep(buf, start);
      return;
    }
    const text = buf.toString('utf8', start, end);
    // A block within the cap cannot hold a packet over it: only look closer when it is larger.
    const leftover = this.parseBlock(text, end - start > this.max);
    if (this.failed) return;
    if (leftover !== '') {
      // An old-style command answer cut before its --END COMMAND--: back to bytes, wait for more.
      const rest = Buffer.from(leftover, 'utf8');
      const tail = buf.subarray(end);
      const joined = tail.length > 0 ? Buffer.concat([rest, tail]) : rest;
      if (joined.length > this.max)
        return this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
      this.pending = joined;
      // Only the --END COMMAND-- marker can complete it: rescan from the start of what came after.
      this.scanned = Math.max(0, rest.length - 3);
      return;
    }
    if (end < buf.length) this.keep(buf, end);
  }

  /** Keeps buf[from..] for the next push (a copy when it is a small part of a large chunk). */
  private keep(buf: Buffer, from: number): void {
    const rest = buf.length - from;
    if (rest > this.max)
      return this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
    if (rest === 0) {
      this.pending = null;
      this.scanned = 0;
      return;
    }
    const view = buf.subarray(from);
    this.pending = rest * 4 < buf.length ? Buffer.from(view) : view;
    // A terminator may straddle the boundary: rescan its last bytes.
    this.scanned = Math.max(0, rest - 3);
  }

  /**
   * Parses whole packets in text; returns the text of an unfinished old-style command answer
   * (to wait for the rest), else ''.
   */
  private parseBlock(text: string, checkSize: boolean): string {
    const n = text.length;
    let pos = 0;
    let nextCrlf = -2; // index of "\n\r\n", -1 none, -2 not searched yet
    let nextLf = -2; // index of "\n\n"
    while (pos < n) {
      // Empty lines between packets.
      let c = text.charCodeAt(pos);
      while (c === 13 || c === 10) {
        pos += 1;
        if (pos >= n) return '';
        c = text.charCodeAt(pos);
      }
      if (nextCrlf !== -1 && nextCrlf < pos) nextCrlf = text.indexOf('\n\r\n', pos - 1);
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n\n', pos - 1);
      let contentEnd: number; // the '\n' ending the last line of the packet
      let next: number;
      if (nextCrlf !== -1 && (nextLf === -1 || nextCrlf < nextLf)) {
        contentEnd = nextCrlf;
        next = nextCrlf + 3;
      } else if (nextLf !== -1) {
        contentEnd = nextLf;
        next = nextLf + 2;
      } else {
        return ''; // cannot happen: the block ends with a terminator
      }
      if ((c === 82 || c === 114) && isFollows(text, pos)) {
        const marker = text.indexOf(END_COMMAND, pos);
        if (marker === -1) return text.slice(pos);
        if (marker > contentEnd) {
          const t = findTerminator(text, marker);
          if (t === null) return text.slice(pos);
          contentEnd = t[0];
          next = t[1];
          nextCrlf = -2;
          nextLf = -2;
        }
      }
      if (checkSize && Buffer.byteLength(text.slice(pos, contentEnd + 1), 'utf8') > this.max) {
        this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
        return '';
      }
      this.emit(text, pos, contentEnd);
      if (this.failed) return '';
      pos = next;
    }
    return '';
  }

  /** Builds and hands out the packet whose lines are text[s..e) (e: the last line's '\n'). */
  private emit(text: string, s: number, e: number): void {
    const keys: string[] = [];
    const values: string[] = [];
    let raw: string[] | undefined;
    let ls = s;
    while (ls <= e) {
      let nl = text.indexOf('\n', ls);
      if (nl === -1 || nl > e) nl = e;
      let le = nl;
      if (le > ls && text.charCodeAt(le - 1) === 13) le -= 1;
      if (le > ls) {
        const colon = text.indexOf(':', ls);
        if (colon !== -1 && colon < le && colon > ls) {
          let ke = colon;
          while (ke > ls && text.charCodeAt(ke - 1) === 32) ke -= 1;
          let vs = colon + 1;
          while (vs < le && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs += 1;
          keys.push(text.slice(ls, ke));
          values.push(text.slice(vs, le));
        } else {
          const line = text.slice(ls, le);
          if (line !== END_COMMAND) (raw ??= []).push(line);
        }
      }
      ls = nl + 1;
    }
    if (keys.length === 0 && raw === undefined) return;
    this.handlers.onPacket(new AmiPacket(keys, values, raw));
  }

  private fail(message: string): void {
    this.failed = true;
    this.pending = null;
    this.scanned = 0;
    this.handlers.onError(new AmiError(AmiErrorCode.Protocol, message));
  }
}

/** Index just past the last empty line in buf[start..], searching only from scanFrom on; -1: none. */
function lastPacketEnd(buf: Buffer, start: number, scanFrom: number): number {
  const from = Math.max(start, scanFrom - 1);
  // Forward from what is new (cheap when there is none), then the last one.
  const firstA = buf.indexOf('\n\r\n', from);
  const firstB = buf.indexOf('\n\n', from);
  const endA = firstA === -1 ? -1 : buf.lastIndexOf('\n\r\n') + 3;
  const endB = firstB === -1 ? -1 : buf.lastIndexOf('\n\n') + 2;
  return Math.max(endA, endB);
}

function isFollows(text: string, pos: number): boolean {
  // "Response: Follows" (any case, any spaces after the colon)
  const head = text.slice(pos, pos + 40).toLowerCase();
  return /^response\s*:\s*follows\s*\r?\n/.test(head);
}

/** The first empty line at or after the line holding `from`: [its preceding '\n', index past it]. */
function findTerminator(text: string, from: number): [number, number] | null {
  const a = text.indexOf('\n\r\n', from);
  const b = text.indexOf('\n\n', from);
  if (a === -1 && b === -1) return null;
  if (a !== -1 && (b === -1 || a < b)) return [a, a + 3];
  return [b, b + 2];
}
