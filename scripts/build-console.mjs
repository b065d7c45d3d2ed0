#!/usr/bin/env node
// Builds the web console (apps/messaging-host/console, Preact) into dist/console: one bundled,
// minified console.js and console.css, and index.html pointing at them with a content hash. esbuild
// and Preact come from node_modules: no network, no CDN.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const src = join(root, 'apps', 'messaging-host', 'console');
const out = join(root, 'dist', 'console');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { console: join(src, 'main.tsx') },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  write: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
const hash = createHash('sha256');
for (const file of Object.keys(result.metafile.outputs).sort()) {
  hash.update(readFileSync(join(root, file)));
}
const html = readFileSync(join(src, 'index.html'), 'utf8').replaceAll(
  '__HASH__',
  hash.digest('hex').slice(0, 12),
);
writeFileSync(join(out, 'index.html'), html);
const sizes = Object.entries(result.metafile.outputs)
  .map(([f, o]) => `${f.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KiB`)
  .join(', ');
console.log(`console built in dist/console: ${sizes}`);
