// How the configuration is shown: warnings and problems on stderr and by `config:check` (plain
// text, one line per key, never a stack or a secret value), and the effective configuration with
// every secret as ***.
import { AppConfig } from './app-config';
import { isSensitive, nestedOf } from './config.decorators';
import type { ConfigError } from './config.errors';

type Ctor = new () => object;
type Plain = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function bulletList(title: string, lines: readonly string[]): string {
  return `${title}:\n${lines.map((l) => `  - ${l}`).join('\n')}`;
}

/** The refusal as the admin reads it: the warnings found on the way first, then every problem. */
export function formatConfigError(err: ConfigError): string {
  const warnings = err.warnings.length > 0 ? `${bulletList('Warnings', err.warnings)}\n` : '';
  return `${warnings}${err.message}`;
}

/** The configuration as JSON with every secret replaced by ***, for logs and diagnostics. */
export function redactedConfig(config: AppConfig): Plain {
  return redact(config as unknown as Plain, AppConfig);
}

function redact(obj: Plain, ctor: Ctor): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'function') continue;
    const nested = nestedOf(ctor, k);
    if (isSensitive(ctor, k)) out[k] = v ? '***' : v;
    else if (nested && !nested.array && isPlainObject(v)) out[k] = redact(v, nested.type());
    else if (nested && nested.array && Array.isArray(v))
      out[k] = v.map((i) => (isPlainObject(i) ? redact(i, nested.type()) : i));
    else out[k] = v;
  }
  return out;
}
