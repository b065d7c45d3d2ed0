// Reading a /metrics scrape in tests: the text parsed by parse-prometheus-text-format (a parser
// that is not ours; it throws on a malformed line), and values looked up by family and labels.
// That parser flattens a histogram with labels into one unlabelled set of buckets, so the count of
// a labelled histogram is read from its `_count` line with `rawSample` instead.
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  text: string;
  families: Map<string, ParsedFamily>;
}

/** Fetches `url` and parses it; throws when the answer is not 200 or not the text format. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain') || !type.includes('version=0.0.4')) {
    throw new Error(`GET ${url}: content-type ${type}`);
  }
  return { text, families: new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f])) };
}

function matches(
  labels: Record<string, string> | undefined,
  want: Record<string, string>,
): boolean {
  return Object.entries(want).every(([k, v]) => labels?.[k] === v);
}

/** The value of a counter or gauge sample (0 when the family or the sample is absent). */
export function sample(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const fam = s.families.get(name);
  const m = fam?.metrics.find((x) => matches(x.labels, labels));
  return m?.value === undefined ? 0 : Number(m.value);
}

/** The sum of every sample of a family (over all label values). */
export function total(s: Scrape, name: string): number {
  return (s.families.get(name)?.metrics ?? []).reduce((a, m) => a + Number(m.value ?? 0), 0);
}

/** The observation count of a histogram without labels (0 when absent). */
export function histogramCount(s: Scrape, name: string): number {
  const m = s.families.get(name)?.metrics[0];
  return m?.count === undefined ? 0 : Number(m.count);
}

/** A sample line's value read from the text (e.g. `x_count{action="Login"}`), 0 when absent. */
export function rawSample(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  for (const line of s.text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      got[l[1]!] = l[2]!;
    }
    if (matches(got, labels)) return Number(m[4]);
  }
  return 0;
}
