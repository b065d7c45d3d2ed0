/**
 * Owns the AMI push decoder: the banner, where packets begin and end across pushed chunks, what
 * is held of an unfinished packet (bounded by maxPacketBytes) and protocol errors. The cutting of
 * packets out of text is ami-line-reader.ts; old-style command answers ami-follows.ts.
 */
import { AmiError, AmiErrorCode } from '../ami.errors';
import type { AmiPacket } from './ami-packet';
import { parseFollows } from './ami-follows';
import { AmiLineReader } from './ami-line-reader';
import { acquireScanner, MAX_SCAN_INPUT, releaseScanner } from './ami-scanner';
import { CR, END_COMMAND, firstPacketEnd, isFollows, lastPacketEnd, LF } from './ami-wire';

export interface AmiDecoderHandlers {
  /** The banner line (`Asterisk Call Manager/9.0.0`): version `9.0.0` and the whole line. */
  onBanner?(version: string, line: string): void;
  onPacket(packet: AmiPacket): void;
  /** A protocol error: the decoder stops until reset(); the owner resets the connection. */
  onError(error: AmiError): void;
}

export interface AmiDecoderOptions {
  /**
   * The largest packet in bytes, from its first byte through the empty line that ends it; larger
   * is a protocol error. Default 1 MiB.
   */
  maxPacketBytes?: number;
  /** Whether the stream starts with the banner line (a socket: yes). Default true. */
  expectBanner?: boolean;
  /**
   * Whether lines are found by the WebAssembly scanner (ami-scan.wat) where the runtime has
   * WebAssembly SIMD. Default true; false: JavaScript only (the same packets, slower).
   */
  wasm?: boolean;
}

export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;
/** The banner line, its line end included, is at most this long (and at most maxPacketBytes). */
export const MAX_BANNER_BYTES = 1024;
/** `Asterisk Call Manager/9.0.0`, also proxies' `... Call Manager Proxy/1.2`. */
const BANNER = /^([^:\r\n]*?)\/([0-9][^\s]*)\s*$/;

/**
 * A pure push decoder for AMI (no I/O): feed it Buffers as they come, split anywhere (mid-line,
 * mid-CRLF, mid-UTF-8 character), many packets per chunk; it calls onPacket per packet in order.
 * The result never depends on where the input was split.
 *
 * - The stream starts with the banner line (`expectBanner`, default true), at most 1 KiB (and at
 *   most maxPacketBytes).
 * - A packet is `Key: value` lines ending with an empty line; CRLF and bare LF line ends are both
 *   accepted, empty lines between packets ignored. Keys keep their case (lookups ignore it),
 *   repeated keys are kept in order.
 * - The old command form (Asterisk < 14): a packet whose first line is `Response: Follows` runs to
 *   the empty line after `--END COMMAND--`; its output lines (empty ones included) go to `output`.
 * - A packet over maxPacketBytes is a protocol error (AmiError AMI_PROTOCOL via onError); so is a
 *   first line that is not a banner. After an error the decoder holds nothing and ignores input
 *   until reset(). Unfinished input is kept below maxPacketBytes, never more.
 *
 * Speed (docs/ami.md, "The decoder and its speed"; measured by `npm run bench:ami`): the bytes up
 * to the last packet end of a chunk become one latin1 string (a copy, no decoding; character index
 * = byte index); the WebAssembly scanner (ami-scanner.ts, ami-scan.wat) finds the lines and the
 * header names it has learnt, so that names are shared strings and packets of one shape share one
 * name array; values are cut from the string, and only those holding bytes over 0x7f (Cyrillic
 * names ...) are decoded as UTF-8 from the bytes (splitting at ASCII bytes, CR, LF or ':', gives
 * the same text as decoding the whole). Without WebAssembly (or `wasm: false`), parseTextJs does
 * the same in JavaScript with indexOf and slice. Held bytes are copied once, when the packet they
 * begin ends; value lists are filled in a reused array and copied once per packet.
 */
export class AmiDecoder {
  private readonly max: number;
  private readonly expectBanner: boolean;
  private readonly wasm: boolean;
  private bannerSeen = false;
  /** The start of an unfinished packet (or banner): chunks, in order, `pendingLength` bytes in all. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private failed = false;
  /** Bumped by reset() and fail(): a handler that resets the decoder stops the current push. */
  private generation = 0;
  /** Cuts packets out of text (scratch arrays reused from packet to packet). */
  private readonly reader = new AmiLineReader();
  /** The generation a parse of text began in: emit stops it when a handler reset the decoder. */
  private parseGeneration = 0;
  /** Hands a packet out; false when the parse must stop (a protocol error, or a reset). */
  private readonly emit = (packet: AmiPacket): boolean => {
    this.handlers.onPacket(packet);
    return !this.failed && this.parseGeneration === this.generation;
  };
  /** Whether what is held is an old-style command answer (its first line is complete). */
  private heldFollows = false;
  /** Whether the chunk being pushed is a read buffer that will be filled again (keep copies). */
  private reused = false;
  /** Whether its `--END COMMAND--` marker is among the held bytes. */
  private heldMarker = false;

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
    this.wasm = options.wasm ?? true;
  }

  /** Bytes held while waiting for the rest of a packet or banner (always below maxPacketBytes). */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  /** Whether a protocol error stopped the decoder (until reset()). */
  get isFailed(): boolean {
    return this.failed;
  }

  /** Forgets everything: for a new connection. */
  reset(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.heldFollows = false;
    this.heldMarker = false;
    this.failed = false;
    this.bannerSeen = false;
    this.generation += 1;
  }

  /**
   * Feeds the next bytes of the stream; handlers run before it returns (a handler may reset() the
   * decoder, but must not push into it). The decoder may keep a view of the chunk's unfinished
   * tail until the next push: do not write into a pushed Buffer again, unless `reused` is true
   * (a read buffer the socket fills again: then what is kept is copied).
   */
  push(chunk: Buffer, reused = false): void {
    if (this.failed || chunk.length === 0) return;
    this.reused = reused;
    if (this.expectBanner && !this.bannerSeen) {
      const rest = this.banner(chunk);
      if (rest === undefined) return;
      chunk = rest;
      if (chunk.length === 0) return;
    }
    if (this.pendingLength === 0) {
      this.decode(chunk);
      return;
    }
    if (this.heldFollows) {
      // An old-style command answer ends at the first empty line after its marker (its output
      // may hold empty lines): wait for both without decoding what is held again and again.
      if (!this.heldMarker) this.heldMarker = this.markerArrives(chunk);
      if (!this.heldMarker || this.firstEndAfterHeld(chunk) === -1) {
        this.hold(chunk);
        return;
      }
      const parts = this.pending;
      const held = this.pendingLength;
      this.pending = [];
      this.pendingLength = 0;
      this.heldFollows = false;
      this.heldMarker = false;
      this.decode(Buffer.concat([...parts, chunk], held + chunk.length));
      return;
    }
    // Nothing can finish before a packet end (an empty line) arrives: keep collecting until then
    // without copying what is held again and again.
    const end = this.firstEndAfterHeld(chunk);
    if (end === -1) {
      this.hold(chunk);
      return;
    }
    const parts = this.pending;
    const held = this.pendingLength;
    this.pending = [];
    this.pendingLength = 0;
    const head = Buffer.concat([...parts, chunk.subarray(0, end)], held + end);
    if (isFollows(head, 0)) {
      // An old-style command answer: its empty lines do not end it; decode everything together.
      this.decode(Buffer.concat([...parts, chunk], held + chunk.length));
      return;
    }
    // The held packet ends within this chunk: decode it alone, then the chunk without a copy.
    if (head.length > this.max) {
      this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
      return;
    }
    const generation = this.generation;
    this.parseText(head, 0, head.length);
    if (this.failed || generation !== this.generation) return;
    if (end < chunk.length) this.decode(chunk.subarray(end));
  }

  /** Reads the banner from the start of the stream; returns the bytes after it, or undefined. */
  private banner(chunk: Buffer): Buffer | undefined {
    const nl = chunk.indexOf(LF);
    const held = this.pendingLength;
    const limit = Math.min(MAX_BANNER_BYTES, this.max);
    if (nl === -1) {
      if (held + chunk.length >= limit) {
        this.fail(`no AMI banner in the first ${limit} bytes`);
        return undefined;
      }
      this.pending.push(this.reused ? Buffer.from(chunk) : chunk);
      this.pendingLength += chunk.length;
      return undefined;
    }
    if (held + nl + 1 > limit) {
      this.fail(`no AMI banner in the first ${limit} bytes`);
      return undefined;
    }
    const head = held > 0 ? Buffer.concat([...this.pending, chunk.subarray(0, nl + 1)]) : chunk;
    const end = held + nl;
    this.pending = [];
    this.pendingLength = 0;
    const line = head.toString('utf8', 0, end > 0 && head[end - 1] === CR ? end - 1 : end);
    const m = BANNER.exec(line);
    if (!m) {
      this.fail(
        'the peer is not an AMI server: its first line is not a banner like "Asterisk Call Manager/9.0.0"',
      );
      return undefined;
    }
    this.bannerSeen = true;
    const generation = this.generation;
    this.handlers.onBanner?.(m[2]!, line);
    if (this.failed || generation !== this.generation) return undefined;
    return chunk.subarray(nl + 1);
  }

  /**
   * Index in chunk just past the first packet end (an empty line: LF LF or LF CR LF) after what is
   * held, which may have begun in the held bytes; -1 when there is none.
   */
  private firstEndAfterHeld(chunk: Buffer): number {
    // A packet end cut between the held bytes and this chunk.
    const a = this.heldByteFromEnd(2);
    const b = this.heldByteFromEnd(1);
    const c0 = chunk[0];
    if (b === LF) {
      if (c0 === LF) return 1;
      if (c0 === CR && chunk.length > 1 && chunk[1] === LF) return 2;
    } else if (b === CR && a === LF && c0 === LF) {
      return 1;
    }
    return firstPacketEnd(chunk, 0);
  }

  /** The k-th last byte held (k = 1: the last), or undefined. */
  private heldByteFromEnd(k: number): number | undefined {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const part = this.pending[i]!;
      if (k <= part.length) return part[part.length - k];
      k -= part.length;
    }
    return undefined;
  }

  /** Keeps an unfinished packet's bytes, failing when it cannot fit in maxPacketBytes. */
  private hold(chunk: Buffer): void {
    const total = this.pendingLength + chunk.length;
    // Held bytes have no packet end yet: the packet will be longer than what is held.
    if (total >= this.max) {
      this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
      return;
    }
    this.pending.push(this.reused ? Buffer.from(chunk) : chunk);
    this.pendingLength = total;
  }

  /** Decodes the whole packets of data and keeps the start of an unfinished one. */
  private decode(data: Buffer): void {
    const end = lastPacketEnd(data);
    let done = 0;
    if (end !== -1) {
      const generation = this.generation;
      // Fast path: the text of all whole packets at once, when no packet can be over the cap. It
      // stops at an old-style command answer (its output may hold empty lines): packet by packet
      // from there.
      const stop = end <= this.max ? this.parseText(data, 0, end) : 0;
      if (this.failed || generation !== this.generation) return;
      done = stop === -1 ? end : this.decodeEach(data, stop);
      if (done === -1) return;
    }
    this.keepRest(data, done);
  }

  /**
   * Decodes data from `from` on packet by packet (exact byte sizes, the old command form); returns
   * how many bytes were used, or -1 when it stopped (error, or a handler reset the decoder).
   */
  private decodeEach(data: Buffer, from: number): number {
    const n = data.length;
    let pos = from;
    const generation = this.generation;
    for (;;) {
      while (pos < n && (data[pos] === CR || data[pos] === LF)) pos += 1;
      if (pos >= n) return n;
      let end = firstPacketEnd(data, pos);
      if (end === -1) return pos;
      const follows = isFollows(data, pos);
      if (follows) {
        const marker = data.indexOf(END_COMMAND, pos);
        if (marker === -1) return pos;
        if (marker >= end) {
          end = firstPacketEnd(data, marker);
          if (end === -1) return pos;
        }
      }
      if (end - pos > this.max) {
        this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
        return -1;
      }
      if (follows) this.handlers.onPacket(parseFollows(data.toString('utf8', pos, end)));
      else this.parseText(data, pos, end);
      if (this.failed || generation !== this.generation) return -1;
      pos = end;
    }
  }

  /** Keeps data[from..] (after the empty lines between packets) for the next push. */
  private keepRest(data: Buffer, from: number): void {
    const n = data.length;
    while (from < n && (data[from] === CR || data[from] === LF)) from += 1;
    const rest = n - from;
    if (rest === 0) return;
    if (rest >= this.max) {
      this.fail(`AMI packet larger than maxPacketBytes (${this.max} bytes)`);
      return;
    }
    const view = data.subarray(from);
    // A copy when it is a small part of a large chunk, so the chunk can be freed, and always when
    // the chunk is a read buffer that will be filled again.
    this.pending = [rest * 4 < n || this.reused ? Buffer.from(view) : view];
    this.pendingLength = rest;
    this.heldFollows = isFollows(data, from);
    this.heldMarker = this.heldFollows && data.indexOf(END_COMMAND, from) !== -1;
  }

  /** Whether the `--END COMMAND--` marker ends within chunk (it may begin in the held bytes). */
  private markerArrives(chunk: Buffer): boolean {
    if (chunk.indexOf(END_COMMAND) !== -1) return true;
    const k = END_COMMAND.length - 1;
    const tail: number[] = [];
    for (let i = Math.min(k, this.pendingLength); i >= 1; i--) tail.push(this.heldByteFromEnd(i)!);
    const seam = Buffer.concat([Buffer.from(tail), chunk.subarray(0, k)]);
    return seam.indexOf(END_COMMAND) !== -1;
  }

  /**
   * Parses the whole packets in buf[start..end) (it ends with an empty line) and hands them out.
   * Returns -1, or the offset in buf of an old-style command answer (`Response: Follows`) where
   * it stopped: that one is read by decodeEach.
   */
  private parseText(buf: Buffer, start: number, end: number): number {
    this.parseGeneration = this.generation;
    const scanner = this.wasm && end - start <= MAX_SCAN_INPUT ? acquireScanner() : undefined;
    if (scanner === undefined) return this.reader.parseTextJs(buf, start, end, this.emit);
    try {
      if (!scanner.load(buf, start, end))
        return this.reader.parseTextJs(buf, start, end, this.emit);
      return this.reader.parseScanned(scanner, buf, start, end, this.emit);
    } finally {
      releaseScanner(scanner);
    }
  }

  private fail(message: string): void {
    this.failed = true;
    this.pending = [];
    this.pendingLength = 0;
    this.heldFollows = false;
    this.heldMarker = false;
    this.generation += 1;
    this.handlers.onError(new AmiError(AmiErrorCode.Protocol, message));
  }
}
