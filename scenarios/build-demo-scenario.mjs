#!/usr/bin/env node
// Assembles scenarios/demo-305.jsonl (the demo's replay, config/demo.json) from the recorded
// fixtures for line 305: an answered inbound call, a missed one, a click-to-call, and a call
// parked and taken back. Keeps the fixtures' record format (docs: libs/ami scenario files):
// each part keeps its own connection number (its banner and login come first), times are
// shifted so that the parts follow each other with a pause between them.
//
//   node scenarios/build-demo-scenario.mjs [fixturesDir]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(
  process.argv[2] ?? join(here, '..', '..', 'shared', 'fixtures', 'asterisk'),
);
const parts = [
  ['c_inbound_answered', '79161234567 calls 305: rings, answered, talk, the caller hangs up'],
  ['d_inbound_missed', '79031112233 calls 305 and gives up: a missed call'],
  ['b2_originate_click_to_call', 'click-to-call from 305 to 979161234567'],
  ['e1_park_unpark', 'a call of 305 parked in 701 and taken back'],
];
const PAUSE_S = 3;

const out = [];
let seq = 0;
let t = 1_800_000_000; // a fixed start: the file is the same every time it is built
parts.forEach(([name, what], i) => {
  const records = readFileSync(join(fixtures, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const t0 = records[0].t;
  let last = t;
  let first = true;
  for (const r of records) {
    if (r.dir !== 'rx') continue; // the replay reads what Asterisk sent; actions are not replayed
    const at = Math.round((t + (r.t - t0)) * 1e6) / 1e6;
    const rec = { seq: ++seq, conn: i + 1, dir: 'rx', t: at, len: r.len, b64: r.b64 };
    if (first) rec.note = `${name}: ${what}`;
    first = false;
    out.push(JSON.stringify(rec));
    last = at;
  }
  t = last + PAUSE_S;
});
const target = join(here, 'demo-305.jsonl');
writeFileSync(target, out.join('\n') + '\n');
console.log(`wrote ${target}: ${out.length} records from ${parts.length} fixtures`);
