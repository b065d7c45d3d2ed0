#!/usr/bin/env node
// Container health probe: `node healthcheck.mjs [PATH]` (default /health/live) exits 0 when the
// service answers 200 on 127.0.0.1, else 1. Slim images have no curl or wget, so node does it.
// The port is SERVER__PORT when set (as the service reads it), else 2013.
import { request } from 'node:http';

const path = process.argv[2] ?? '/health/live';
// Environment names are case-insensitive for the service, so they are here too.
const envPort = Object.entries(process.env).find(([k]) => k.toLowerCase() === 'server__port')?.[1];
const port = Number(envPort || 2013);
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? 2000);

const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
  res.resume();
  const ok = res.statusCode === 200;
  if (!ok) console.error(`GET ${path}: ${res.statusCode}`);
  process.exit(ok ? 0 : 1);
});
req.on('timeout', () => {
  console.error(`GET ${path}: no answer within ${timeoutMs} ms`);
  req.destroy();
  process.exit(1);
});
req.on('error', (err) => {
  console.error(`GET ${path}: ${err.code ?? err.message}`);
  process.exit(1);
});
req.end();
