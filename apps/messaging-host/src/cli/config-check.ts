import 'reflect-metadata';
import { runConfigCheck } from './config-check.command';

/** `npm run config:check -- [FILE]`: see config-check.command.ts. */
process.exitCode = runConfigCheck({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
});
