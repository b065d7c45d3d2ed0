import 'reflect-metadata';
import { runRecord } from './record.command';

/** `npm run record -- --out FILE`: see record.command.ts and docs/ami.md. */
runRecord({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stderr: process.stderr,
  signals: process,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`record: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
