#!/usr/bin/env node
// `npm run demo`: starts the built service with config/demo.json (a replay of
// scenarios/demo-305.jsonl in a loop for line 305: no Asterisk needed) and prints how to watch it:
// the web console (its API key `demo` is in config/demo.json, for this demo only), a CTI watcher,
// the event stream and the metrics.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'apps', 'messaging-host', 'src', 'main.js');
if (!existsSync(main)) {
  console.error(`${main} is missing: the build failed (npm run build)`);
  process.exit(1);
}
const child = spawn(
  process.execPath,
  [main, '--config', 'config/demo.json', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let announced = false;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (announced) return;
  buffer += chunk.toString('utf8');
  const m = /listening on ([^"\s]+):(\d+)/.exec(buffer);
  if (!m) return;
  announced = true;
  buffer = '';
  const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
  const port = m[2];
  process.stdout.write(
    [
      '',
      '  Messaging Host demo: replaying scenarios/demo-305.jsonl for line 305, in a loop (no Asterisk).',
      `  Console:      http://${host}:${port}/console   (API key: demo)`,
      `  CTI clients:  ws://${host}:${port}  (plain WebSocket)   http://${host}:${port}/msg  (SignalR)`,
      `  Health:       http://${host}:${port}/health/ready`,
      `  Metrics:      http://${host}:${port}/metrics`,
      `  Events:       curl -N -H 'Authorization: Bearer demo' http://${host}:${port}/api/v1/events`,
      `  Watch it:     node scenarios/watch.mjs ws://${host}:${port} 305`,
      '',
      '',
    ].join('\n'),
  );
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
