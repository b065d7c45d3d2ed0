// How configuration warnings and problems are shown on stderr and by `config:check`: plain text,
// one line per key, never a stack or a secret value.
import type { ConfigError } from './config.errors';

export function bulletList(title: string, lines: readonly string[]): string {
  return `${title}:\n${lines.map((l) => `  - ${l}`).join('\n')}`;
}

/** The refusal as the admin reads it: the warnings found on the way first, then every problem. */
export function formatConfigError(err: ConfigError): string {
  const warnings = err.warnings.length > 0 ? `${bulletList('Warnings', err.warnings)}\n` : '';
  return `${warnings}${err.message}`;
}
