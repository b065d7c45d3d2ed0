// `npm run config:check -- [FILE]`: loads the configuration exactly as the service would (the
// file, or --config / MESSAGING_HOST_CONFIG / the default, then the environment), prints the
// effective configuration with secrets as *** and every warning and problem; starts nothing.
import type { Writable } from 'node:stream';
import { inspectConfig, redactedConfig } from '../config/config.loader';
import { bulletList } from '../config/config.report';

export enum ConfigCheckExitCode {
  Ok = 0,
  Usage = 64,
  /** sysexits(3) EX_CONFIG, as the service exits on the same problems. */
  Config = 78,
}

export const CONFIG_CHECK_USAGE = `Usage: npm run config:check -- [FILE] [--config FILE]

Reads the configuration as the service would (FILE, else MESSAGING_HOST_CONFIG, else
config/appsettings.json; JSON or the legacy XML *.config; then environment variables such as
ASTERISK__SECRET), prints the effective configuration (secrets as ***), every warning and every
problem, and exits 0 when the service would start with it, 78 when it would refuse it.
`;

export interface ConfigCheckEnv {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: Writable;
}

/** The arguments for loadConfig: a bare FILE is taken as --config FILE. */
export function configCheckArgs(argv: readonly string[]): string[] | 'help' {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--config') {
      const v = argv[++i];
      if (v === undefined) throw new Error('--config needs a path');
      out.push('--config', v);
    } else if (a.startsWith('--config=')) out.push(a);
    else if (a.startsWith('-'))
      throw new Error(`unknown argument ${JSON.stringify(a.slice(0, 40))}`);
    else if (out.length > 0) throw new Error('give one configuration file');
    else out.push('--config', a);
  }
  return out;
}

export function runConfigCheck(envx: ConfigCheckEnv): ConfigCheckExitCode {
  const say = (s: string): void => void envx.stdout.write(`${s}\n`);
  let argv: string[] | 'help';
  try {
    argv = configCheckArgs(envx.argv);
  } catch (err) {
    say(`config:check: ${(err as Error).message}\n\n${CONFIG_CHECK_USAGE}`);
    return ConfigCheckExitCode.Usage;
  }
  if (argv === 'help') {
    say(CONFIG_CHECK_USAGE);
    return ConfigCheckExitCode.Ok;
  }
  const r = inspectConfig({ argv, env: envx.env, cwd: envx.cwd });
  say(`Configuration file: ${r.file ?? '(none read)'}`);
  if (r.config) {
    say('Effective configuration (defaults < file < environment; secrets as ***):');
    say(JSON.stringify(redactedConfig(r.config), null, 2));
  }
  if (r.warnings.length > 0) say(bulletList('Warnings', r.warnings));
  if (r.problems.length > 0) {
    say(bulletList('Problems', r.problems));
    say(
      `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}: the service would refuse to start (exit 78).`,
    );
    return ConfigCheckExitCode.Config;
  }
  say('OK: the service would start with this configuration.');
  return ConfigCheckExitCode.Ok;
}
