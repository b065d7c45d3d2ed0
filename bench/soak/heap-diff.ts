/**
 * Compares two V8 heap snapshots of one process (`node dist/bench/soak/heap-diff.js A B`): live
 * objects and bytes per constructor in each and their difference, then the objects of B that did
 * not exist in A (node ids are stable within a process) grouped by constructor, each group with
 * the retainer paths of its largest objects counted by shape: what holds on to what grew.
 * With `-` for A, every object of B is listed: what a heap is made of.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  nodeFields: string[];
  nodeTypes: string[];
  edgeFields: string[];
  edgeTypes: string[];
  nodes: number[];
  edges: number[];
  strings: string[];
}

function load(file: string): Snapshot {
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[]];
        edge_fields: string[];
        edge_types: [string[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = j.snapshot.meta;
  return {
    nodeFields: m.node_fields,
    nodeTypes: m.node_types[0],
    edgeFields: m.edge_fields,
    edgeTypes: m.edge_types[0],
    nodes: j.nodes,
    edges: j.edges,
    strings: j.strings,
  };
}

/** A snapshot with no objects, in the layout of `like` (heap-diff - B: everything in B is new). */
function emptySnapshot(like: Snapshot): Snapshot {
  return { ...like, nodes: [], edges: [], strings: [] };
}

class Heap {
  readonly nf: number;
  readonly ef: number;
  readonly count: number;
  private readonly iType: number;
  private readonly iName: number;
  private readonly iId: number;
  private readonly iSize: number;
  private readonly iEdges: number;
  private readonly firstEdge: Uint32Array;
  private retainers: { from: Uint32Array; edge: Uint32Array; start: Uint32Array } | undefined;

  constructor(readonly s: Snapshot) {
    this.nf = s.nodeFields.length;
    this.ef = s.edgeFields.length;
    this.count = s.nodes.length / this.nf;
    this.iType = s.nodeFields.indexOf('type');
    this.iName = s.nodeFields.indexOf('name');
    this.iId = s.nodeFields.indexOf('id');
    this.iSize = s.nodeFields.indexOf('self_size');
    this.iEdges = s.nodeFields.indexOf('edge_count');
    this.firstEdge = new Uint32Array(this.count + 1);
    let e = 0;
    for (let n = 0; n < this.count; n++) {
      this.firstEdge[n] = e;
      e += s.nodes[n * this.nf + this.iEdges]! * this.ef;
    }
    this.firstEdge[this.count] = e;
  }

  type(n: number): string {
    return this.s.nodeTypes[this.s.nodes[n * this.nf + this.iType]!]!;
  }

  name(n: number): string {
    return this.s.strings[this.s.nodes[n * this.nf + this.iName]!]!;
  }

  id(n: number): number {
    return this.s.nodes[n * this.nf + this.iId]!;
  }

  size(n: number): number {
    return this.s.nodes[n * this.nf + this.iSize]!;
  }

  /** The group a node counts under. */
  key(n: number): string {
    const t = this.type(n);
    const name = this.name(n);
    switch (t) {
      case 'object':
        return name;
      case 'closure':
        return `(closure) ${name || 'anonymous'}`;
      case 'string':
      case 'concatenated string':
      case 'sliced string':
        return '(string)';
      case 'array':
        return `(array) ${name}`;
      case 'number':
        return '(number)';
      default:
        return `(${t}) ${name.slice(0, 40)}`;
    }
  }

  private edgeName(e: number): string {
    const type = this.s.edgeTypes[this.s.edges[e]!]!;
    const v = this.s.edges[e + 1]!;
    if (type === 'element' || type === 'hidden') return `[${v}]`;
    return this.s.strings[v] ?? `?${v}`;
  }

  private edgeType(e: number): string {
    return this.s.edgeTypes[this.s.edges[e]!]!;
  }

  private buildRetainers(): NonNullable<Heap['retainers']> {
    const total = this.firstEdge[this.count]! / this.ef;
    const counts = new Uint32Array(this.count + 1);
    for (let e = 0; e < total; e++) counts[this.s.edges[e * this.ef + 2]! / this.nf]! += 1;
    const start = new Uint32Array(this.count + 1);
    for (let n = 0; n < this.count; n++) start[n + 1] = start[n]! + counts[n]!;
    const fill = start.slice();
    const from = new Uint32Array(total);
    const edge = new Uint32Array(total);
    for (let n = 0; n < this.count; n++) {
      for (let e = this.firstEdge[n]!; e < this.firstEdge[n + 1]!; e += this.ef) {
        const to = this.s.edges[e + 2]! / this.nf;
        const at = fill[to]!++;
        from[at] = n;
        edge[at] = e;
      }
    }
    return { from, edge, start };
  }

  /** One retainer path of node n up to `depth` steps, avoiding weak edges and visited nodes. */
  path(n: number, depth = 10): string {
    this.retainers ??= this.buildRetainers();
    const r = this.retainers;
    const parts: string[] = [this.key(n)];
    const seen = new Set<number>([n]);
    let cur = n;
    for (let d = 0; d < depth; d++) {
      let best = -1;
      let bestEdge = -1;
      for (let i = r.start[cur]!; i < r.start[cur + 1]!; i++) {
        const f = r.from[i]!;
        const e = r.edge[i]!;
        if (seen.has(f) || this.edgeType(e) === 'weak') continue;
        const t = this.type(f);
        if (t === 'synthetic' && best >= 0) continue;
        best = f;
        bestEdge = e;
        if (t !== 'synthetic' && this.edgeType(e) !== 'internal') break;
      }
      if (best < 0) break;
      parts.push(`${this.edgeName(bestEdge)} in ${this.key(best)}`);
      if (this.type(best) === 'synthetic') break;
      seen.add(best);
      cur = best;
    }
    return parts.join(' <- ');
  }
}

function tally(h: Heap): Map<string, { n: number; bytes: number }> {
  const out = new Map<string, { n: number; bytes: number }>();
  for (let i = 0; i < h.count; i++) {
    const k = h.key(i);
    const t = out.get(k) ?? { n: 0, bytes: 0 };
    t.n += 1;
    t.bytes += h.size(i);
    out.set(k, t);
  }
  return out;
}

function main(): void {
  const [fa, fb, topArg] = process.argv.slice(2);
  if (!fa || !fb) {
    throw new Error(
      'usage: heap-diff A.heapsnapshot B.heapsnapshot [top=25] (A = - : every object of B counts as new)',
    );
  }
  const top = Number(topArg ?? 25);
  const b = new Heap(load(fb));
  const a = fa === '-' ? new Heap(emptySnapshot(b.s)) : new Heap(load(fa));
  const ta = tally(a);
  const tb = tally(b);
  const totalA = [...ta.values()].reduce((x, y) => x + y.bytes, 0);
  const totalB = [...tb.values()].reduce((x, y) => x + y.bytes, 0);
  console.log(
    `A: ${a.count} objects, ${(totalA / 1048576).toFixed(2)} MiB; B: ${b.count} objects, ${(totalB / 1048576).toFixed(2)} MiB`,
  );
  const keys = new Set([...ta.keys(), ...tb.keys()]);
  const rows = [...keys].map((k) => {
    const x = ta.get(k) ?? { n: 0, bytes: 0 };
    const y = tb.get(k) ?? { n: 0, bytes: 0 };
    return { k, dn: y.n - x.n, db: y.bytes - x.bytes, n: y.n };
  });
  rows.sort((p, q) => q.db - p.db);
  console.log(`\ngrowth by bytes (top ${top}):`);
  for (const r of rows.slice(0, top)) {
    console.log(
      `  ${String(r.db).padStart(10)} B  ${String(r.dn).padStart(8)} objs  (${r.n} now)  ${r.k}`,
    );
  }
  // Objects of B that A did not have: allocated after A and still alive.
  const idsA = new Set<number>();
  for (let i = 0; i < a.count; i++) idsA.add(a.id(i));
  const fresh = new Map<string, number[]>();
  for (let i = 0; i < b.count; i++) {
    if (idsA.has(b.id(i))) continue;
    const k = b.key(i);
    let l = fresh.get(k);
    if (!l) fresh.set(k, (l = []));
    l.push(i);
  }
  const groups = [...fresh.entries()]
    .map(([k, l]) => ({ k, l, bytes: l.reduce((s, i) => s + b.size(i), 0) }))
    .sort((p, q) => q.bytes - p.bytes);
  console.log(`\nobjects new in B and alive (top ${top} groups by bytes), with retainer paths:`);
  for (const g of groups.slice(0, top)) {
    console.log(`  ${g.l.length} x ${g.k} (${g.bytes} B)`);
    // Retainer paths of up to 20,000 of its objects (the largest first), counted by shape
    // (indices and object ids left out): what holds on to what grew, and how much of it.
    const bySize = [...g.l].sort((x, y) => b.size(y) - b.size(x)).slice(0, 20_000);
    const shapes = new Map<string, { n: number; bytes: number }>();
    for (const n of bySize) {
      const shape = b
        .path(n, 8)
        .replace(/@\d+/g, '@')
        .replace(/(^| )\[?\d+\]?( in)/g, '$1N$2');
      const t = shapes.get(shape) ?? { n: 0, bytes: 0 };
      t.n += 1;
      t.bytes += b.size(n);
      shapes.set(shape, t);
    }
    for (const [shape, t] of [...shapes.entries()]
      .sort((x, y) => y[1].bytes - x[1].bytes)
      .slice(0, 4)) {
      console.log(`      ${t.n} (${t.bytes} B): ${shape}`);
    }
  }
}

main();
