// Builds the one validated AppConfig: defaults < the file (JSON or legacy XML) < the environment;
// every problem of every block is collected into one ConfigError before anything starts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { AppConfig, AsteriskConfig } from './app-config';
import { blockChecksOf, isFreeMap, isSensitive, nestedOf } from './config.decorators';
import { ConfigError, ConfigErrorCode } from './config.errors';
import { readConfigFile } from './config.file';

export { stripJsonComments } from './config.file';
export { redactedConfig } from './config.report';

type Ctor = new () => object;
type Plain = Record<string, unknown>;

export const CONFIG_ENV_VAR = 'MESSAGING_HOST_CONFIG';
export const DEFAULT_CONFIG_FILE = 'config/appsettings.json';

export interface ConfigSources {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

export interface LoadedConfig {
  config: AppConfig;
  /** Unknown keys and other things worth an admin's look; the process still starts. */
  warnings: string[];
  /** The file that was read, or null when none was found at the default place. */
  file: string | null;
}

/** Where a configuration file comes from: --config PATH, else $MESSAGING_HOST_CONFIG, else the default. */
export function configFilePath(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): { path: string; explicit: boolean } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' && i + 1 < argv.length)
      return { path: resolve(cwd, argv[i + 1]!), explicit: true };
    if (a.startsWith('--config='))
      return { path: resolve(cwd, a.slice('--config='.length)), explicit: true };
  }
  const fromEnv = env[CONFIG_ENV_VAR];
  if (fromEnv) return { path: resolve(cwd, fromEnv), explicit: true };
  return { path: resolve(cwd, DEFAULT_CONFIG_FILE), explicit: false };
}

/**
 * Builds the configuration: built-in defaults < the file < environment variables
 * (`ASTERISK__PORT`: `__` between levels, names matched without regard to case), then validates
 * it. Throws one ConfigError naming every offending key (with the warnings found so far); secret
 * values never appear in messages.
 */
export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const warnings: string[] = [];
  try {
    const { config, file, problems } = build(sources, warnings);
    if (problems.length > 0) throw new ConfigError(ConfigErrorCode.Invalid, problems);
    return { config, warnings, file };
  } catch (err) {
    if (err instanceof ConfigError) err.warnings = [...warnings, ...err.warnings];
    throw err;
  }
}

export interface ConfigInspection {
  /** The merged configuration (also when invalid); null when the file itself could not be read. */
  config: AppConfig | null;
  file: string | null;
  warnings: string[];
  problems: string[];
}

/** What loadConfig sees, without throwing: for `config:check`. */
export function inspectConfig(sources: ConfigSources = {}): ConfigInspection {
  const warnings: string[] = [];
  try {
    return { ...build(sources, warnings), warnings };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      config: null,
      file: null,
      warnings: [...warnings, ...err.warnings],
      problems: err.problems,
    };
  }
}

function build(
  sources: ConfigSources,
  warnings: string[],
): { config: AppConfig; file: string | null; problems: string[] } {
  const argv = sources.argv ?? [];
  const env = sources.env ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const origin = new Map<string, string>();
  const problems: string[] = [];

  const { path, explicit } = configFilePath(argv, env, cwd);
  let fileRaw: unknown = {};
  let file: string | null = null;
  if (existsSync(path)) {
    const content = readConfigFile(path);
    warnings.push(...content.notes);
    fileRaw = content.raw;
    file = path;
  } else if (explicit) {
    throw new ConfigError(
      ConfigErrorCode.FileNotFound,
      [`configuration file not found: ${path}`],
      'Cannot load configuration',
    );
  } else {
    warnings.push(`no configuration file at ${path}; using built-in defaults and the environment`);
  }
  if (!isPlainObject(fileRaw)) {
    throw new ConfigError(ConfigErrorCode.Invalid, [
      `${path}: the top level must be a JSON object`,
    ]);
  }

  const merged: Plain = {};
  const fromFile = liftAsteriskKeys(fileRaw, path, warnings);
  mergeInto(
    merged,
    normalise(fromFile, AppConfig, '', warnings, `file ${path}`),
    origin,
    'file',
    '',
  );
  mergeInto(merged, envTree(env, warnings, problems), origin, 'env', '');

  const config = plainToInstance(AppConfig, merged);
  const errors = validateSync(config, { forbidUnknownValues: false });
  problems.push(...flatten(errors, AppConfig, '', origin));
  problems.push(...runBlockChecks(config, AppConfig, '', new Set(errorPaths(errors, ''))));
  return { config, file, problems };
}

/**
 * The guide's step 6 shows the asterisk keys without their `"asterisk": { }` wrapper: keys at the
 * top level that only the asterisk block knows are taken into it (an explicit block wins), with
 * one warning.
 */
function liftAsteriskKeys(raw: Plain, path: string, warnings: string[]): Plain {
  const lifted: Plain = {};
  const rest: Plain = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!findKey(AppConfig, k) && findKey(AsteriskConfig, k)) lifted[k] = v;
    else rest[k] = v;
  }
  const names = Object.keys(lifted);
  if (names.length === 0) return raw;
  const blockKey = Object.keys(rest).find((k) => k.toLowerCase() === 'asterisk');
  const block = blockKey !== undefined && isPlainObject(rest[blockKey]) ? rest[blockKey] : {};
  const explicit = new Set(Object.keys(block).map((k) => k.toLowerCase()));
  const shadowed = names.filter((k) => explicit.has(k.toLowerCase()));
  warnings.push(
    `${path}: asterisk keys at the top level (${names.join(', ')}) are read as the "asterisk" block; ` +
      `put them inside "asterisk": { }` +
      (shadowed.length > 0 ? `; the "asterisk" block's own ${shadowed.join(', ')} win` : ''),
  );
  const out: Plain = { ...rest };
  out[blockKey ?? 'asterisk'] = {
    ...Object.fromEntries(Object.entries(lifted).filter(([k]) => !explicit.has(k.toLowerCase()))),
    ...block,
  };
  return out;
}

function schemaKeys(ctor: Ctor): string[] {
  return Object.keys(new ctor());
}

function findKey(ctor: Ctor, key: string): string | undefined {
  const lower = key.toLowerCase();
  return schemaKeys(ctor).find((k) => k.toLowerCase() === lower);
}

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Renames keys to the schema's spelling (case-insensitive) and drops unknown keys with a warning. */
function normalise(
  raw: Plain,
  ctor: Ctor,
  prefix: string,
  warnings: string[],
  where: string,
): Plain {
  const out: Plain = {};
  for (const [key, value] of Object.entries(raw)) {
    const canonical = findKey(ctor, key);
    const path = prefix ? `${prefix}.${key}` : key;
    if (!canonical) {
      warnings.push(`unknown configuration key ${path} (${where}) is ignored`);
      continue;
    }
    const cpath = prefix ? `${prefix}.${canonical}` : canonical;
    const nested = nestedOf(ctor, canonical);
    if (nested && !nested.array && isPlainObject(value)) {
      out[canonical] = normalise(value, nested.type(), cpath, warnings, where);
    } else if (nested && nested.array && Array.isArray(value)) {
      out[canonical] = value.map((item, i) =>
        isPlainObject(item)
          ? normalise(item, nested.type(), `${cpath}[${i}]`, warnings, where)
          : item,
      );
    } else {
      out[canonical] = value;
    }
  }
  return out;
}

/** Environment variables with `__` between levels, for keys the schema knows (case-insensitive). */
function envTree(
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
  problems: string[],
): Plain {
  const tree: Plain = {};
  const names = Object.keys(env).sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined || !name.includes('__')) continue;
    const parts = name.split('__');
    let ctor: Ctor = AppConfig;
    let node: Plain = tree;
    const path: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const key = findKey(ctor, parts[i]!);
      if (!key) {
        // Variables of other programs (no known top-level block) are none of our business.
        if (i > 0)
          warnings.push(
            `unknown configuration key ${[...path, parts[i]!.toLowerCase()].join('.')} (environment ${name}) is ignored`,
          );
        break;
      }
      path.push(key);
      const last = i === parts.length - 1;
      const nested = nestedOf(ctor, key);
      if (last) {
        const v = envValue(name, value, ctor, key, nested !== undefined, isFreeMap(ctor, key));
        if (v.ok) node[key] = v.value;
        else problems.push(v.problem);
      } else if (isFreeMap(ctor, key)) {
        const map = (isPlainObject(node[key]) ? node[key] : (node[key] = {})) as Plain;
        map[parts.slice(i + 1).join('.')] = value;
        break;
      } else if (nested && !nested.array) {
        node = (isPlainObject(node[key]) ? node[key] : (node[key] = {})) as Plain;
        ctor = nested.type();
      } else {
        warnings.push(`environment ${name}: ${path.join('.')} has no sub-keys; set it as a whole`);
        break;
      }
    }
  }
  return tree;
}

function envValue(
  name: string,
  value: string,
  ctor: Ctor,
  key: string,
  nested: boolean,
  freeMap: boolean,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  const def = (new ctor() as Plain)[key];
  const wantsJson = nested || freeMap || Array.isArray(def);
  const t = value.trim();
  if (wantsJson && (t.startsWith('[') || t.startsWith('{'))) {
    try {
      return { ok: true, value: JSON.parse(t) as unknown };
    } catch {
      return { ok: false, problem: `environment ${name}: not valid JSON` };
    }
  }
  return { ok: true, value };
}

function mergeInto(
  target: Plain,
  source: Plain,
  origin: Map<string, string>,
  tag: string,
  prefix: string,
): void {
  for (const [k, v] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && isPlainObject(target[k])) {
      mergeInto(target[k], v, origin, tag, path);
    } else {
      target[k] = v;
      origin.set(path, tag);
    }
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function flatten(
  errors: ValidationError[],
  ctor: Ctor,
  prefix: string,
  origin: Map<string, string>,
): string[] {
  const lines: string[] = [];
  for (const e of errors) {
    const path = prefix
      ? /^\d+$/.test(e.property)
        ? `${prefix}[${e.property}]`
        : `${prefix}.${e.property}`
      : e.property;
    const secret = isSensitive(ctor, e.property);
    if (e.constraints) {
      const rules = Object.entries(e.constraints).map(([rule, msg]) => {
        let m = msg.startsWith(`${e.property} `) ? msg.slice(e.property.length + 1) : msg;
        m = m.replace(/@\./g, prefix ? `${prefix}.` : '');
        if (secret && typeof e.value === 'string' && e.value) m = m.split(e.value).join('***');
        return `${rule}: ${m}`;
      });
      const shown = secret ? '***' : describeValue(e.value);
      const from =
        origin.get(path.replace(/\[(\d+)\]/g, '')) === 'env' ? ', from the environment' : '';
      lines.push(`${path}: ${rules.join('; ')} (value: ${shown}${from})`);
    }
    if (e.children && e.children.length > 0) {
      // An array's children are its indexed items, validated with the element class (ctor stays).
      const childCtor = /^\d+$/.test(e.property)
        ? ctor
        : (nestedOf(ctor, e.property)?.type() ?? ctor);
      lines.push(...flatten(e.children, childCtor, path, origin));
    }
  }
  return lines;
}

/** The dotted paths of the keys that failed their own checks (`asterisk.port`). */
function errorPaths(errors: ValidationError[], prefix: string): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    return [...(e.constraints ? [path] : []), ...errorPaths(e.children ?? [], path)];
  });
}

/** Runs each block's @BlockCheck rules, for the blocks whose own keys all passed. */
function runBlockChecks(obj: object, ctor: Ctor, prefix: string, failed: Set<string>): string[] {
  const out: string[] = [];
  const block = obj as Plain;
  const keys = Object.keys(block);
  const clean = keys.every((k) => !failed.has(prefix ? `${prefix}.${k}` : k));
  if (clean) {
    for (const check of blockChecksOf(ctor)) {
      for (const p of check(block)) {
        const path = prefix ? `${prefix}.${p.key}` : p.key;
        out.push(`${path}: ${p.message.replace(/@\./g, prefix ? `${prefix}.` : '')}`);
      }
    }
  }
  for (const k of keys) {
    const nested = nestedOf(ctor, k);
    if (nested && !nested.array && isPlainObject(block[k]))
      out.push(...runBlockChecks(block[k], nested.type(), prefix ? `${prefix}.${k}` : k, failed));
  }
  return out;
}
