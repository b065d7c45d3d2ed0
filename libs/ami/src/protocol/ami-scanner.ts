import { AMI_SCAN_WASM_BASE64 } from './ami-scan.wasm';

/** Where things are in the scanner's memory (see ami-scan.wat). */
const NAME_SLOTS = 512;
const NAME_SLOTS_END = 66048;
const RECORDS = 98816;
const INPUT = 196608;
const PAGE = 65536;
/** Zero bytes after the input (the scanner reads 32 bytes a step). */
const PAD = 32;
/** Line records one scan() call writes at most. */
export const SCAN_RECORDS = 2048;
/** Ints per line record. */
export const RECORD_INTS = 6;
/** Names the scanner can be taught (ids 0..MAX_NAMES-1), and the longest one in bytes. */
const MAX_NAMES = 512;
const MAX_NAME_BYTES = 64;
/** The largest input scanned (bigger ones are parsed without the scanner). */
export const MAX_SCAN_INPUT = 8 * 1024 * 1024;
/** Decoded values a scanner keeps at most, and the longest one kept (bytes). */
const DECODED_KEEP = 2048;
const DECODED_MAX_BYTES = 96;
/** Nodes of a shape trie at most (then new shapes are decoded without it). */
const MAX_SHAPE_NODES = 8192;
/** Header names per packet a shape trie follows at most. */
const MAX_SHAPE_DEPTH = 128;

/** The little of the WebAssembly API used here (@types/node does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: unknown };
}
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmGlobal {
  value: number;
}

interface ScanExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  resume: WasmGlobal;
  atStart: WasmGlobal;
  scan(end: number, max: number): number;
  addName(at: number, len: number, id: number): number;
}

/**
 * A header-name sequence in the shape trie: a node is reached by the names before it in a packet
 * (by id); all packets whose names lead to it share one frozen name array.
 */
export class ShapeNode {
  /** The child followed last: the name predicted for the next line. */
  next: ShapeNode | undefined = undefined;
  children: Map<number, ShapeNode> | undefined = undefined;
  private names: readonly string[] | undefined = undefined;

  constructor(
    /** The name id (-1 at the root). */
    readonly id: number,
    readonly key: string,
    readonly parent: ShapeNode | undefined,
    /** Header names from the first line through this one. */
    readonly depth: number,
    /** Where ActionID is among them (-1: not there), spelt so ... */
    readonly idExact: number,
    /** ... and in another case. */
    readonly idOther: number,
  ) {}

  /** The header names from the first line through this one: one frozen array for all packets. */
  path(): readonly string[] {
    let names = this.names;
    if (names === undefined) {
      const arr = new Array<string>(this.depth);
      arr[this.depth - 1] = this.key;
      for (let x = this.parent; x !== undefined && x.depth > 0; x = x.parent)
        arr[x.depth - 1] = x.key;
      names = Object.freeze(arr);
      this.names = names;
    }
    return names;
  }
}

/**
 * One instance of the WebAssembly line scanner (ami-scan.wat) with what it has learnt: the header
 * names it knows (id -> one flat string shared by every packet) and the shapes seen (name
 * sequences, each with one shared name array). Both are bounded (512 names of at most 64 bytes,
 * 8192 trie nodes): when one is full, the scanner forgets both before its next chunk and learns
 * again (meanwhile packets are decoded with their names cut one by one: slower, the same).
 *
 * Instances are pooled (acquireScanner / releaseScanner): a decoder takes one for one chunk, so a
 * packet handler that feeds another decoder gets another instance.
 */
export class AmiScanner {
  private readonly ex: ScanExports;
  private bytes: Uint8Array;
  /** The line records, as ints (valid after scan()). */
  records: Int32Array;
  /** Where the records start in `records`. */
  readonly recordBase = RECORDS >> 2;
  /** Name strings by id. */
  readonly names: string[] = [];
  /** 1 when the name is `ActionID`, 2 when it is that in another case, else 0; by id. */
  readonly actionIdKind: number[] = [];
  /** Ids by name (to find the id of a name the scanner's cache let go). */
  private readonly ids = new Map<string, number>();
  /** The shape trie (new when the scanner forgets what it learnt). */
  root = new ShapeNode(-1, '', undefined, 0, -1, -1);
  /**
   * Set when the names or the trie are full: at the next load() everything learnt is forgotten
   * and learnt again from the traffic of now (never within a chunk: its records hold old ids).
   */
  private full = false;
  /**
   * Values with bytes over 0x7f, decoded, by their bytes as latin1 (a caller's name comes back in
   * most events of its call): at most DECODED_KEEP of at most DECODED_MAX_BYTES bytes each.
   */
  private readonly decoded = new Map<string, string>();
  private shapeNodes = 0;
  private end = INPUT;

  constructor(wasm: WasmApi, module: WasmModule) {
    this.ex = new wasm.Instance(module).exports as unknown as ScanExports;
    this.bytes = new Uint8Array(this.ex.memory.buffer);
    this.records = new Int32Array(this.ex.memory.buffer);
    for (let n = 0; n <= 16; n++) this.bytes.fill(0xff, n * 16, n * 16 + n);
  }

  /**
   * Copies buf[start..end) in as the input (at most MAX_SCAN_INPUT bytes) and rewinds; false when
   * the memory cannot grow to hold it (then the caller decodes without the scanner).
   */
  load(buf: Uint8Array, start: number, end: number): boolean {
    if (this.full) this.forget();
    const len = end - start;
    const need = INPUT + len + PAD;
    if (need > this.bytes.length) {
      try {
        this.ex.memory.grow(Math.ceil((need - this.bytes.length) / PAGE));
      } catch {
        return false;
      }
      this.bytes = new Uint8Array(this.ex.memory.buffer);
      this.records = new Int32Array(this.ex.memory.buffer);
    }
    this.bytes.set(start === 0 && end === buf.length ? buf : buf.subarray(start, end), INPUT);
    this.bytes.fill(0, INPUT + len, INPUT + len + PAD);
    this.end = INPUT + len;
    this.ex.resume.value = INPUT;
    this.ex.atStart.value = 1;
    return true;
  }

  /** Bytes of memory the instance holds (it grows with the largest input, never shrinks). */
  get memoryBytes(): number {
    return this.bytes.length;
  }

  /** Forgets the names and shapes learnt (the packets made so far keep theirs). */
  private forget(): void {
    this.full = false;
    this.names.length = 0;
    this.actionIdKind.length = 0;
    this.ids.clear();
    this.root = new ShapeNode(-1, '', undefined, 0, -1, -1);
    this.shapeNodes = 0;
    this.bytes.fill(0, NAME_SLOTS, NAME_SLOTS_END);
  }

  /** Scans on: the number of line records written (SCAN_RECORDS: there may be more). */
  scan(): number {
    return this.ex.scan(this.end, SCAN_RECORDS);
  }

  /**
   * The id of name (ASCII, cut from the input at [at, at + len), positions in the input), taught
   * to the scanner so that its next lines carry it; -1 when there is no room or it is too long.
   */
  idOf(name: string, at: number, len: number): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (len > MAX_NAME_BYTES) return -1;
      if (this.names.length >= MAX_NAMES) {
        this.full = true;
        return -1;
      }
      id = this.names.length;
      this.names.push(flat(name));
      this.actionIdKind.push(
        name === 'ActionID' ? 1 : name.length === 8 && name.toLowerCase() === 'actionid' ? 2 : 0,
      );
      this.ids.set(name, id);
    }
    this.ex.addName(INPUT + at, len, id);
    return id;
  }

  /**
   * text[from..to) (latin1: one character per byte, the bytes buf[start + from..start + to))
   * decoded as UTF-8.
   */
  utf8(text: string, buf: Buffer, start: number, from: number, to: number): string {
    if (to - from > DECODED_MAX_BYTES) return buf.toString('utf8', start + from, start + to);
    const bytes = text.slice(from, to);
    let s = this.decoded.get(bytes);
    if (s === undefined) {
      s = buf.toString('utf8', start + from, start + to);
      if (this.decoded.size >= DECODED_KEEP) this.decoded.clear();
      // A flat key: a cut of the chunk's text would keep all of it alive.
      this.decoded.set(flat(bytes), s);
    }
    return s;
  }

  /** The node for name `id` after node (made when new), now the predicted one; or undefined. */
  child(node: ShapeNode, id: number): ShapeNode | undefined {
    let c = node.children?.get(id);
    if (c === undefined) {
      if (node.depth >= MAX_SHAPE_DEPTH) return undefined;
      if (this.shapeNodes >= MAX_SHAPE_NODES) {
        this.full = true;
        return undefined;
      }
      const kind = this.actionIdKind[id]!;
      c = new ShapeNode(
        id,
        this.names[id]!,
        node,
        node.depth + 1,
        node.idExact !== -1 ? node.idExact : kind === 1 ? node.depth : -1,
        node.idOther !== -1 ? node.idOther : kind === 2 ? node.depth : -1,
      );
      (node.children ??= new Map()).set(id, c);
      this.shapeNodes += 1;
    }
    node.next = c;
    return c;
  }
}

/**
 * A flat, internalized copy of s: a name cut from a chunk's text may be a view of it (it would
 * keep the whole text alive); a property name is a string of its own, and comparing two
 * internalized strings (a literal like 'Event' is one) is a pointer comparison.
 */
function flat(s: string): string {
  const o: Record<string, number> = {};
  o[s] = 0;
  for (const k in o) return k;
  return s;
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: WasmModule | null | undefined;
const pool: AmiScanner[] = [];
/** Free instances kept for reuse at most, and the most memory one may hold to be kept. */
const POOL_KEEP = 4;
const POOL_MAX_MEMORY = 4 * 1024 * 1024;

/** A scanner for one chunk, or undefined where WebAssembly SIMD is not available (then: JS). */
export function acquireScanner(): AmiScanner | undefined {
  const s = pool.pop();
  if (s !== undefined) return s;
  if (compiled === undefined) {
    try {
      if (wasmApi === undefined) throw new Error('no WebAssembly');
      compiled = new wasmApi.Module(Buffer.from(AMI_SCAN_WASM_BASE64, 'base64'));
    } catch {
      // No WebAssembly (node --jitless) or no SIMD: the decoder's JavaScript path.
      compiled = null;
    }
  }
  if (compiled === null) return undefined;
  try {
    return new AmiScanner(wasmApi!, compiled);
  } catch {
    // No memory for an instance now: this chunk is decoded in JavaScript.
    return undefined;
  }
}

/** Gives a scanner back; one that grew large for a big input is let go, not kept. */
export function releaseScanner(s: AmiScanner): void {
  if (pool.length < POOL_KEEP && s.memoryBytes <= POOL_MAX_MEMORY) pool.push(s);
}
