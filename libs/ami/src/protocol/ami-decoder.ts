import { isAscii } from 'node:buffer';
import { AmiError, AmiErrorCode } from '../ami.errors';
import { AmiPacket } from './ami-packet';
import {
  acquireScanner,
  MAX_SCAN_INPUT,
  RECORD_INTS,
  releaseScanner,
  SCAN_RECORDS,
  type AmiScanner,
  type ShapeNode,
} from './ami-scanner';

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
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const END_COMMAND = '--END COMMAND--';
/** `Asterisk Call Manager/9.0.0`, also proxies' `... Call Manager Proxy/1.2`. */
const BANNER = /^([^:\r\n]*?)\/([0-9][^\s]*)\s*$/;
/** Header names of the old command form (`Privilege: Command`, `ActionID: 12`): a plain token. */
const TOKEN_KEY = /^[A-Za-z0-9_-]+$/;

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
  /** Reused while a packet is read; each packet gets exact copies. */
  private readonly scratchKeys: string[] = [];
  private readonly scratchValues: string[] = [];
  /** Whether what is held is an old-style command answer (its first line is complete). */
  private heldFollows = false;
  /** Whether the chunk being pushed is a read buffer that will be filled again (keep copies). */
  private reused = false;
  /** Whether its `--END COMMAND--` marker is among the held bytes. */
  private heldMarker = false;
  /** The character that began the last run of bytes over 0x7f (a UTF-8 lead byte), or ''. */
  private lastLead = '';

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
      if (follows) this.parseFollows(data.toString('utf8', pos, end));
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
    const scanner = this.wasm && end - start <= MAX_SCAN_INPUT ? acquireScanner() : undefined;
    if (scanner === undefined) return this.parseTextJs(buf, start, end);
    try {
      if (!scanner.load(buf, start, end)) return this.parseTextJs(buf, start, end);
      return this.parseScanned(scanner, buf, start, end);
    } finally {
      releaseScanner(scanner);
    }
  }

  /**
   * parseText with the WebAssembly scanner (buf[start..end) loaded in it): it finds the lines
   * (and the names it was taught) of many packets in one call; here strings are only cut. A name
   * the scanner knows is one shared string, and packets with the same names in the same order
   * share one name array (the shape trie). The same packets as parseTextJs, which tests check on
   * generated input.
   */
  private parseScanned(scanner: AmiScanner, buf: Buffer, start: number, end: number): number {
    const text = latin1(buf, start, end);
    const names = scanner.names;
    const root = scanner.root;
    const generation = this.generation;
    const keys = this.scratchKeys;
    const values = this.scratchValues;
    let count = 0;
    let raw: string[] | undefined;
    // No line of the packet read yet (a skipped `--END COMMAND--` line counts as one).
    let atStart = true;
    // Where ActionID is, once off the trie (on it, the node knows).
    let idExact = -1;
    let idOther = -1;
    // The packet's place in the shape trie (its names so far); undefined once off it. On it,
    // the names are the node's path and `keys` is not filled.
    let node: ShapeNode | undefined = root;
    for (;;) {
      const lines = scanner.scan();
      const recs = scanner.records;
      const stop = scanner.recordBase + lines * RECORD_INTS;
      for (let r = scanner.recordBase; r < stop; r += RECORD_INTS) {
        const ke = recs[r + 1]!;
        if (ke === -2) {
          // An empty line: the packet is whole.
          if (count > 0 || raw !== undefined) {
            const packet = this.packet(node, count, raw, idExact, idOther);
            count = 0;
            raw = undefined;
            idExact = -1;
            idOther = -1;
            this.handlers.onPacket(packet);
            if (this.failed || generation !== this.generation) return -1;
          }
          node = root;
          atStart = true;
          continue;
        }
        const ls = recs[r]!;
        const le = recs[r + 3]!;
        const flags = recs[r + 4]!;
        if (ke === -1) {
          // A line without a name: command output (Asterisk < 14).
          const line = flags === 0 ? text.slice(ls, le) : utf8(buf, start + ls, start + le);
          if (line !== END_COMMAND) (raw ??= []).push(line);
          atStart = false;
          continue;
        }
        let id = recs[r + 5]!;
        // A name the scanner does not know (yet): taught, when there is room.
        if (id === -1 && flags !== 3) id = scanner.idOf(text.slice(ls, ke), ls, ke - ls);
        let key: string;
        // Off the trie: whether this name is ActionID (1: spelt so, 2: in another case).
        let kind = 0;
        if (id !== -1) {
          key = names[id]!;
          if (node !== undefined) {
            const guess: ShapeNode | undefined = node.next;
            if (guess !== undefined && guess.id === id) node = guess;
            else {
              const next = scanner.child(node, id);
              if (next === undefined) {
                this.offTrie(node, count);
                idExact = node.idExact;
                idOther = node.idOther;
              }
              node = next;
            }
          }
          if (node === undefined) kind = scanner.actionIdKind[id]!;
        } else {
          // Off the trie from here: a name with bytes over 0x7f, or no room for more names.
          if (node !== undefined) {
            this.offTrie(node, count);
            idExact = node.idExact;
            idOther = node.idOther;
            node = undefined;
          }
          if (flags === 3) key = utf8(buf, start + ls, start + ke);
          else {
            key = text.slice(ls, ke);
            if (ke - ls === 8) kind = actionIdAt(buf, start + ls);
          }
        }
        if (node === undefined) {
          keys[count] = key;
          if (idExact === -1) {
            if (kind === 1) idExact = count;
            else if (kind === 2 && idOther === -1) idOther = count;
          }
        }
        const vs = recs[r + 2]!;
        const value = flags === 0 ? text.slice(vs, le) : scanner.utf8(text, buf, start, vs, le);
        // The first line of a packet: `Response: Follows` is read by decodeEach.
        if (atStart && value === 'Follows' && isResponse(key)) return start + ls;
        atStart = false;
        values[count] = value;
        count += 1;
      }
      if (lines < SCAN_RECORDS) break;
    }
    // The text ends with an empty line: nothing is left (kept for safety).
    if (count > 0 || raw !== undefined)
      this.handlers.onPacket(this.packet(node, count, raw, idExact, idOther));
    return -1;
  }

  /**
   * The packet of the lines read: its names are node's path while it is on the shape trie, else
   * the scratch names; its values the scratch values (count of each). idExact / idOther: where
   * ActionID is when off the trie.
   */
  private packet(
    node: ShapeNode | undefined,
    count: number,
    raw: string[] | undefined,
    idExact: number,
    idOther: number,
  ): AmiPacket {
    let names: readonly string[];
    if (count === 0) names = NO_NAMES;
    else if (node !== undefined) {
      names = node.path();
      idExact = node.idExact;
      idOther = node.idOther;
    } else names = this.scratchKeys.slice(0, count);
    const packet = new AmiPacket(
      names,
      this.scratchValues.slice(0, count),
      raw,
      idExact !== -1 ? idExact : idOther,
    );
    if (count > SCRATCH_KEEP) {
      // A rare huge packet: do not keep that much around.
      this.scratchKeys.length = 0;
      this.scratchValues.length = 0;
    }
    return packet;
  }

  /** A packet leaves the shape trie at its line `count`: its names so far go to the scratch. */
  private offTrie(node: ShapeNode, count: number): void {
    const path = count > 0 ? node.path() : NO_NAMES;
    for (let i = 0; i < count; i++) this.scratchKeys[i] = path[i]!;
  }

  /** parseText in JavaScript alone (no WebAssembly, or an input over MAX_SCAN_INPUT). */
  private parseTextJs(buf: Buffer, start: number, end: number): number {
    const text = latin1(buf, start, end);
    const n = text.length;
    const generation = this.generation;
    // Index of the next character over 0x7f (a UTF-8 byte), n when none.
    let high = isAscii(buf.subarray(start, end)) ? n : this.nextHigh(text, 0, buf, start);
    let colon = -1;
    let pos = 0;
    while (pos < n) {
      const c = buf[start + pos];
      if (c === LF || c === CR) {
        pos += 1;
        continue;
      }
      const keys = this.scratchKeys;
      const values = this.scratchValues;
      let count = 0;
      let raw: string[] | undefined;
      const packetStart = pos;
      // Where ActionID is (what every response is routed by): spelt so, or else in another case.
      let idExact = -1;
      let idOther = -1;
      // One line per turn; the packet ends at an empty line.
      for (;;) {
        const nl = text.indexOf('\n', pos);
        const lineEnd = nl === -1 ? n : nl;
        let le = lineEnd;
        if (le > pos && buf[start + le - 1] === CR) le -= 1;
        if (le === pos) {
          pos = lineEnd + 1;
          break;
        }
        if (colon < pos) {
          colon = text.indexOf(':', pos);
          if (colon === -1) colon = n;
        }
        if (colon > pos && colon < le) {
          let ke = colon;
          while (ke > pos && buf[start + ke - 1] === SPACE) ke -= 1;
          let vs = colon + 1;
          let v: number;
          while (vs < le && ((v = buf[start + vs]) === SPACE || v === TAB)) vs += 1;
          if (ke - pos === 8 && idExact === -1 && high >= ke) {
            const id = actionIdAt(buf, start + pos);
            if (id === 1) idExact = count;
            else if (id === 2 && idOther === -1) idOther = count;
          }
          if (high < le) {
            keys[count] = high < ke ? utf8(buf, start + pos, start + ke) : text.slice(pos, ke);
            values[count] = utf8(buf, start + vs, start + le);
            count += 1;
            high = this.nextHigh(text, le, buf, start);
          } else {
            keys[count] = text.slice(pos, ke);
            values[count] = text.slice(vs, le);
            count += 1;
            if (pos === packetStart && (c === 0x52 || c === 0x72) && values[0] === 'Follows') {
              if (isResponse(keys[0]!)) return start + packetStart;
            }
          }
        } else {
          let line: string;
          if (high < le) {
            line = utf8(buf, start + pos, start + le);
            high = this.nextHigh(text, le, buf, start);
          } else {
            line = text.slice(pos, le);
          }
          if (line !== END_COMMAND) (raw ??= []).push(line);
        }
        pos = lineEnd + 1;
        if (pos >= n) break;
      }
      if (count > 0 || raw !== undefined) {
        this.handlers.onPacket(this.packet(undefined, count, raw, idExact, idOther));
        if (this.failed || generation !== this.generation) return -1;
      }
    }
    return -1;
  }

  /**
   * One old-style command answer (text: `Response: Follows` through the empty line after
   * `--END COMMAND--`): headers while lines are `Token: value`, then output lines (empty ones
   * too) up to the marker, then headers again up to the empty line that ends the packet.
   */
  private parseFollows(text: string): void {
    const keys: string[] = [];
    const values: string[] = [];
    const output: string[] = [];
    // Without the empty line that ends the packet (text ends with LF LF or LF CR LF).
    const body = text.charCodeAt(text.length - 2) === CR ? text.length - 2 : text.length - 1;
    let state: 'headers' | 'output' | 'after' = 'headers';
    let pos = 0;
    while (pos < body) {
      const ls = pos;
      let nl = text.indexOf('\n', pos);
      if (nl === -1 || nl > body) nl = body;
      let le = nl;
      if (le > pos && text.charCodeAt(le - 1) === CR) le -= 1;
      const line = text.slice(pos, le);
      pos = nl + 1;
      if (state === 'output') {
        const marker = line.indexOf(END_COMMAND);
        if (marker === -1) {
          output.push(line);
          continue;
        }
        // `last line--END COMMAND--`: output cut short by the marker.
        if (marker > 0) output.push(line.slice(0, marker));
        state = 'after';
        continue;
      }
      const colon = line.indexOf(':');
      const key = colon > 0 ? line.slice(0, colon).replace(/ +$/, '') : '';
      if (key !== '' && (state === 'after' || TOKEN_KEY.test(key))) {
        keys.push(key);
        values.push(line.slice(colon + 1).replace(/^[ \t]+/, ''));
      } else if (state === 'after') {
        if (line !== '' && line !== END_COMMAND) output.push(line);
      } else {
        // The first line that is not a header starts the output: read it again as output.
        state = 'output';
        pos = ls;
      }
    }
    this.handlers.onPacket(new AmiPacket(keys, values, output));
  }

  /**
   * Index of the first character over 0x7f in text (buf[start..] as latin1) at or after from, or
   * text.length. Text in one script repeats the same UTF-8 lead byte (0xD0 begins every capital
   * Cyrillic letter): a memchr-fast search for the last one seen, checked by a SIMD test that
   * nothing over 0x7f comes before it, spares the slower regular expression scan most times.
   */
  private nextHigh(text: string, from: number, buf: Buffer, start: number): number {
    const lead = this.lastLead;
    if (lead !== '') {
      const at = text.indexOf(lead, from);
      const to = at === -1 ? text.length : at;
      if (isAscii(buf.subarray(start + from, start + to))) return to;
    }
    HIGH.lastIndex = from;
    if (!HIGH.test(text)) return text.length;
    const found = HIGH.lastIndex - 1;
    this.lastLead = text[found]!;
    return found;
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

const HIGH = /[\x80-\xff]/g;

/** 1 when buf[pos..pos+8) is `ActionID`, 2 when it is in another case, else 0. */
function actionIdAt(buf: Buffer, pos: number): number {
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
function isResponse(key: string): boolean {
  return key.length === 8 && key.toLowerCase() === 'response';
}

const NO_NAMES: readonly string[] = Object.freeze([]);

/** Scratch arrays longer than this are let go after the packet. */
const SCRATCH_KEEP = 256;

interface SliceBuffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<SliceBuffer>;
/** Node's own Buffer slicers (what toString calls after checking its arguments), when present. */
const direct = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';

function latin1(buf: Buffer, start: number, end: number): string {
  return direct
    ? (buf as unknown as SliceBuffer).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}

function utf8(buf: Buffer, start: number, end: number): string {
  return direct
    ? (buf as unknown as SliceBuffer).utf8Slice(start, end)
    : buf.toString('utf8', start, end);
}

/** Index just past the last empty line (LF LF or LF CR LF) in buf, or -1. */
function lastPacketEnd(buf: Buffer): number {
  // Backwards over the bytes: the last packet end is usually within the last packet's length.
  for (let i = buf.length - 1; i > 0; i--) {
    if (buf[i] !== LF) continue;
    const p = buf[i - 1];
    if (p === LF || (p === CR && i > 1 && buf[i - 2] === LF)) return i + 1;
  }
  return -1;
}

/** Index just past the first empty line whose ending LF is after `from`, or -1. */
function firstPacketEnd(buf: Buffer, from: number): number {
  const n = buf.length;
  for (let i = from + 1; i < n; i++) {
    if (buf[i] !== LF) continue;
    const p = buf[i - 1];
    if (p === LF || (p === CR && i - 2 >= from && buf[i - 2] === LF)) return i + 1;
  }
  return -1;
}

/** Whether the packet at pos starts with the line `Response: Follows` (key in any case). */
function isFollows(buf: Buffer, pos: number): boolean {
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
