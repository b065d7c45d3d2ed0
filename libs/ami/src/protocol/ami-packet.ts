const NO_LINES: readonly string[] = Object.freeze([]);

/**
 * One AMI packet (an event, a response, or a list item): its header lines in wire order.
 * Keys keep the case Asterisk sent; lookups ignore case. Repeated keys are kept in order
 * (`ChanVariable`, `Variable`, `Output`, ...). Lines without a colon (the output of an old-style
 * `Response: Follows` command) are kept in `output`.
 */
export class AmiPacket {
  private lowerKeys: string[] | undefined;
  private chanVars: Map<string, string> | undefined;

  constructor(
    /** Header names in wire order, as sent. */
    readonly keys: readonly string[],
    /** Header values, parallel to `keys`. */
    readonly values: readonly string[],
    /** Lines that were not `Key: value` (command output, Asterisk < 14), and every `Output:` value. */
    private readonly rawOutput: readonly string[] = NO_LINES,
    /**
     * Where ActionID is, when the decoder already knows (-1: none); else undefined. A hint only:
     * it must be what get('ActionID') finds.
     */
    private readonly actionIdIndex?: number,
  ) {}

  /** Number of header lines. */
  get size(): number {
    return this.keys.length;
  }

  /** Number of lines that were not `Key: value` (an old-style command answer's output). */
  get rawLineCount(): number {
    return this.rawOutput.length;
  }

  /** The first value of `key` (case-insensitive), or undefined. */
  get(key: string): string | undefined {
    const keys = this.keys;
    const len = key.length;
    // Asterisk's own spelling wins; else the first name equal without regard to case. One pass,
    // allocating nothing: a miss (the ActionID of an event) is common.
    let other = -1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.length !== len) continue;
      if (k === key) return this.values[i];
      if (other === -1 && sameIgnoringCase(k, key)) other = i;
    }
    return other === -1 ? undefined : this.values[other];
  }

  /** Every value of `key` (case-insensitive), in order. */
  getAll(key: string): string[] {
    const keys = this.keys;
    const out: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (sameIgnoringCase(keys[i]!, key)) out.push(this.values[i]!);
    }
    return out;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** `Event:` value, or undefined for a response. */
  get event(): string | undefined {
    return this.get('Event');
  }

  /** `Response:` value (Success, Error, Follows, Goodbye), or undefined for an event. */
  get response(): string | undefined {
    return this.get('Response');
  }

  get actionId(): string | undefined {
    const at = this.actionIdIndex;
    if (at === undefined) return this.get('ActionID');
    return at === -1 ? undefined : this.values[at];
  }

  /** `ChanVariable` headers (`ChanVariable: NAME=value`, or `ChanVariable(NAME): value` as older Asterisk writes them) as a map. */
  get chanVariables(): ReadonlyMap<string, string> {
    if (this.chanVars) return this.chanVars;
    const map = new Map<string, string>();
    const lk = this.lower();
    for (let i = 0; i < lk.length; i++) {
      const k = lk[i]!;
      if (k === 'chanvariable') {
        const v = this.values[i]!;
        const eq = v.indexOf('=');
        if (eq > 0) map.set(v.slice(0, eq), v.slice(eq + 1));
      } else if (k.startsWith('chanvariable(') && k.endsWith(')')) {
        map.set(this.keys[i]!.slice('chanvariable('.length, -1), this.values[i]!);
      }
    }
    this.chanVars = map;
    return map;
  }

  /** `ChanVariable` headers as a list of `NAME=value`, in order. */
  get chanVariableList(): string[] {
    return this.getAll('ChanVariable');
  }

  /** `Variable` headers, in order. */
  get variables(): string[] {
    return this.getAll('Variable');
  }

  /**
   * Command output lines: `Output:` headers (Asterisk >= 14) or the raw lines of a
   * `Response: Follows` packet (older), without the `--END COMMAND--` marker.
   */
  get output(): string[] {
    const out = this.getAll('Output');
    return out.length > 0 ? out : [...this.rawOutput];
  }

  /** Header pairs in wire order. */
  entries(): [string, string][] {
    return this.keys.map((k, i) => [k, this.values[i]!]);
  }

  /**
   * A plain object: the first value of each key; keys repeated on the wire become arrays.
   * For logs and diagnostics (RAW_DATA); never use it to look up a header (case matters there).
   */
  toObject(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      const v = this.values[i]!;
      // Own properties only: a header named like Object.prototype's (`__proto__`, `constructor`)
      // is a header, not the object's prototype or an inherited method.
      const prev = Object.hasOwn(out, k) ? out[k] : undefined;
      const next = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      Object.defineProperty(out, k, {
        value: next,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    if (this.rawOutput.length > 0 && !Object.hasOwn(out, 'Output'))
      out['Output'] = [...this.rawOutput];
    return out;
  }

  /**
   * The packet as AMI text (CRLF line ends, ending in an empty line); an old-style command
   * answer (`Response: Follows`) gets its output and the `--END COMMAND--` marker.
   */
  toString(): string {
    let s = '';
    for (let i = 0; i < this.keys.length; i++) s += `${this.keys[i]}: ${this.values[i]}\r\n`;
    for (const line of this.rawOutput) s += `${line}\r\n`;
    // The old command form: its output may hold empty lines, the marker ends it.
    if (this.rawOutput.length > 0 && this.response === 'Follows') s += '--END COMMAND--\r\n';
    return s + '\r\n';
  }

  private lower(): string[] {
    if (this.lowerKeys) return this.lowerKeys;
    const lk = new Array<string>(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) lk[i] = this.keys[i]!.toLowerCase();
    this.lowerKeys = lk;
    return lk;
  }

  /** Builds a packet from pairs (tests, replay answers). */
  static from(pairs: readonly (readonly [string, string])[]): AmiPacket {
    return new AmiPacket(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    );
  }
}

/**
 * Whether a and b are the same header name without regard to case: ASCII letters fold directly;
 * a difference in any other character is decided by toLowerCase().
 */
function sameIgnoringCase(a: string, b: string): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x === y) continue;
    if (x < 0x80 && y < 0x80) return false;
    return a.toLowerCase() === b.toLowerCase();
  }
  return true;
}
