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
  ) {}

  /** Number of header lines. */
  get size(): number {
    return this.keys.length;
  }

  /** The first value of `key` (case-insensitive), or undefined. */
  get(key: string): string | undefined {
    const keys = this.keys;
    // Asterisk's own spelling first: the common case costs no lowercasing.
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.values[i];
    const lower = key.toLowerCase();
    const lk = this.lower();
    for (let i = 0; i < lk.length; i++) if (lk[i] === lower) return this.values[i];
    return undefined;
  }

  /** Every value of `key` (case-insensitive), in order. */
  getAll(key: string): string[] {
    const lower = key.toLowerCase();
    const lk = this.lower();
    const out: string[] = [];
    for (let i = 0; i < lk.length; i++) if (lk[i] === lower) out.push(this.values[i]!);
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
    return this.get('ActionID');
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
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else out[k] = [prev, v];
    }
    if (this.rawOutput.length > 0 && out['Output'] === undefined)
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
