/**
 * Owns the cutting of whole packets out of text known to end with an empty line: with the
 * WebAssembly scanner's line records (parseScanned) or in JavaScript alone (parseTextJs), the
 * same packets either way. Holds only reused scratch arrays; the decoder (ami-decoder.ts) decides
 * what text to hand over and what an emitted packet means.
 */
import { isAscii } from 'node:buffer';
import { AmiPacket } from './ami-packet';
import { RECORD_INTS, SCAN_RECORDS, type AmiScanner, type ShapeNode } from './ami-scanner';
import { actionIdAt, CR, END_COMMAND, isResponse, latin1, LF, SPACE, TAB, utf8 } from './ami-wire';

/** Receives each packet; false stops the parse (a protocol error, or the decoder was reset). */
export type PacketSink = (packet: AmiPacket) => boolean;

const HIGH = /[\x80-\xff]/g;

const NO_NAMES: readonly string[] = Object.freeze([]);

/** Scratch arrays longer than this are let go after the packet. */
const SCRATCH_KEEP = 256;

/**
 * Cuts packets from text (buf[start..end) as latin1: character index = byte index). Each parse
 * method returns -1, or the offset in buf of an old-style command answer (`Response: Follows`)
 * where it stopped: the decoder reads that one itself.
 */
export class AmiLineReader {
  /** Reused while a packet is read; each packet gets exact copies. */
  private readonly scratchKeys: string[] = [];
  private readonly scratchValues: string[] = [];
  /** The character that began the last run of bytes over 0x7f (a UTF-8 lead byte), or ''. */
  private lastLead = '';

  /**
   * parseText with the WebAssembly scanner (buf[start..end) loaded in it): it finds the lines
   * (and the names it was taught) of many packets in one call; here strings are only cut. A name
   * the scanner knows is one shared string, and packets with the same names in the same order
   * share one name array (the shape trie). The same packets as parseTextJs, which tests check on
   * generated input.
   */
  parseScanned(
    scanner: AmiScanner,
    buf: Buffer,
    start: number,
    end: number,
    emit: PacketSink,
  ): number {
    const text = latin1(buf, start, end);
    const names = scanner.names;
    const root = scanner.root;
    const keys = this.scratchKeys;
    const values = this.scratchValues;
    let count = 0;
    let raw: string[] | undefined;
    // A `--END COMMAND--` line (dropped, never output) began the packet: then a `Response:
    // Follows` after it is not the packet's first line (as parseTextJs and decodeEach see it).
    let markerFirst = false;
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
          markerFirst = false;
          if (count > 0 || raw !== undefined) {
            const packet = this.packet(node, count, raw, idExact, idOther);
            count = 0;
            raw = undefined;
            idExact = -1;
            idOther = -1;
            if (!emit(packet)) return -1;
          }
          node = root;
          continue;
        }
        const ls = recs[r]!;
        const le = recs[r + 3]!;
        const flags = recs[r + 4]!;
        if (ke === -1) {
          // A line without a name: command output (Asterisk < 14).
          const line = flags === 0 ? text.slice(ls, le) : utf8(buf, start + ls, start + le);
          if (line !== END_COMMAND) (raw ??= []).push(line);
          else if (count === 0 && raw === undefined) markerFirst = true;
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
        if (
          count === 0 &&
          raw === undefined &&
          !markerFirst &&
          value === 'Follows' &&
          isResponse(key)
        )
          return start + ls;
        values[count] = value;
        count += 1;
      }
      if (lines < SCAN_RECORDS) break;
    }
    // The text ends with an empty line: nothing is left (kept for safety).
    if (count > 0 || raw !== undefined) emit(this.packet(node, count, raw, idExact, idOther));
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
  parseTextJs(buf: Buffer, start: number, end: number, emit: PacketSink): number {
    const text = latin1(buf, start, end);
    const n = text.length;
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
        if (!emit(this.packet(undefined, count, raw, idExact, idOther))) return -1;
      }
    }
    return -1;
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
}
