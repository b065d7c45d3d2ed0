import type { CorpusEvent } from './ami-bench-corpus';

/** How far ahead a received event is looked for among the expected ones before it counts as mangled. */
const RESYNC_WINDOW = 4096;

/**
 * The same per-event check for every reader: each received event is compared field by field
 * (every key and every value touched) with the generator's event at the same place. Keys match
 * without regard to case (asterisk-manager lowercases them), values exactly. An event that matches
 * a later expected one means the ones in between were lost; one that matches none is mangled.
 */
export class EventChecker {
  /** Next expected event. */
  private next = 0;
  ok = 0;
  lost = 0;
  mangled = 0;
  private readonly lowerKeys: Map<readonly string[], string[]> = new Map();

  constructor(private readonly expected: readonly CorpusEvent[]) {}

  get done(): boolean {
    return this.next >= this.expected.length;
  }

  get received(): number {
    return this.ok + this.mangled;
  }

  /** An event given as parallel key and value arrays. */
  checkArrays(keys: readonly string[], values: readonly string[]): void {
    const e = this.expected[this.next];
    if (e !== undefined && this.sameArrays(e, keys, values)) {
      this.ok += 1;
      this.next += 1;
      return;
    }
    this.resync((x) => this.sameArrays(x, keys, values));
  }

  /** An event given as a plain object (key -> value, insertion order). */
  checkObject(obj: Record<string, unknown>): void {
    const e = this.expected[this.next];
    if (e !== undefined && this.sameObject(e, obj)) {
      this.ok += 1;
      this.next += 1;
      return;
    }
    this.resync((x) => this.sameObject(x, obj));
  }

  /** For the baseline that decodes nothing: n events seen, none checked. */
  countUnchecked(n: number): void {
    this.ok = Math.min(n, this.expected.length);
    this.next = this.ok;
  }

  /** End of the stream: what was never received is lost. */
  finish(): void {
    this.lost += this.expected.length - this.next;
    this.next = this.expected.length;
  }

  private resync(matches: (e: CorpusEvent) => boolean): void {
    const end = Math.min(this.expected.length, this.next + RESYNC_WINDOW);
    for (let j = this.next + 1; j < end; j++) {
      if (matches(this.expected[j]!)) {
        this.lost += j - this.next;
        this.ok += 1;
        this.next = j + 1;
        return;
      }
    }
    this.mangled += 1;
    this.next += 1;
  }

  private lower(keys: readonly string[]): string[] {
    let l = this.lowerKeys.get(keys);
    if (!l) {
      l = keys.map((k) => k.toLowerCase());
      this.lowerKeys.set(keys, l);
    }
    return l;
  }

  private sameKey(e: CorpusEvent, i: number, k: string): boolean {
    return k === e.keys[i] || k.toLowerCase() === this.lower(e.keys)[i];
  }

  private sameArrays(e: CorpusEvent, keys: readonly string[], values: readonly string[]): boolean {
    const n = keys.length;
    if (n !== e.keys.length || values.length !== n) return false;
    const ev = e.values;
    let same = true;
    // Every key and value is touched even after a difference (no reader gains by stopping early).
    for (let i = 0; i < n; i++) {
      if (!this.sameKey(e, i, keys[i]!) || values[i] !== ev[i]) same = false;
    }
    return same;
  }

  private sameObject(e: CorpusEvent, obj: Record<string, unknown>): boolean {
    const ev = e.values;
    const n = ev.length;
    let i = 0;
    let same = true;
    for (const k in obj) {
      const v = obj[k];
      if (i >= n || !this.sameKey(e, i, k) || v !== ev[i]) same = false;
      i += 1;
    }
    return same && i === n;
  }
}
