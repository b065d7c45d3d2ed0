#!/usr/bin/env node
// Runs the compiled tests with node's test runner. Node 20 has no globs in `node --test`, so the
// files are found here. Arguments narrow the run: path fragments (`node scripts/run-tests.mjs libs/ami`).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
if (!existsSync(dist)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(e2e-)?spec\.js$/.test(name)) out.push(p);
  }
  return out;
}

const files = walk(dist, [])
  .filter((f) => filters.length === 0 || filters.some((x) => relative(dist, f).includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'} under dist/`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=180000',
    ...passThrough,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
