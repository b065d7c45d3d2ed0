import 'reflect-metadata';
import { statSync, accessSync, constants as fsConstants } from 'node:fs';
import { resolve } from 'node:path';
import { Transform, Type } from 'class-transformer';
import { IsArray, ValidateBy, ValidateNested, type ValidationArguments } from 'class-validator';

type Ctor = new () => object;

const sensitive = new WeakMap<object, Set<string>>();
const nested = new WeakMap<object, Map<string, { type: () => Ctor; array: boolean }>>();
const freeMaps = new WeakMap<object, Set<string>>();
const blockChecks = new WeakMap<object, BlockCheckFn[]>();

/** A problem a block check found: `key` is the block's own key (`keyFile`), named in full by the loader. */
export interface BlockProblem {
  key: string;
  message: string;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BlockCheckFn = (block: any) => BlockProblem[];

/**
 * A rule over a whole block (files that must open together, ports that must differ), run by the
 * loader after the block's keys passed their own checks. Its problems are reported with the others.
 */
export function BlockCheck<T>(check: (block: T) => BlockProblem[]): ClassDecorator {
  return (ctor) => {
    record(blockChecks, ctor.prototype as object, () => []).push(check as BlockCheckFn);
  };
}

export function blockChecksOf(ctor: Ctor): BlockCheckFn[] {
  return protoChain(ctor.prototype as object).flatMap((p) => blockChecks.get(p) ?? []);
}

function record<T>(store: WeakMap<object, T>, proto: object, make: () => T): T {
  let v = store.get(proto);
  if (!v) {
    v = make();
    store.set(proto, v);
  }
  return v;
}

/** The value is a secret: shown as *** in every message. */
export function Sensitive(): PropertyDecorator {
  return (proto, key) => {
    record(sensitive, proto, () => new Set<string>()).add(String(key));
  };
}

/** A nested block of configuration, validated with its own class. */
export function Nested(type: () => Ctor): PropertyDecorator {
  return (proto, key) => {
    record(nested, proto, () => new Map()).set(String(key), { type, array: false });
    Type(type)(proto, key);
    ValidateNested()(proto, key);
  };
}

/** An array of nested blocks (e.g. api.keys). */
export function NestedArray(type: () => Ctor): PropertyDecorator {
  return (proto, key) => {
    record(nested, proto, () => new Map()).set(String(key), { type, array: true });
    Type(type)(proto, key);
    IsArray()(proto, key);
    ValidateNested({ each: true })(proto, key);
  };
}

/** An object whose keys are the admin's own (e.g. logging.levels): no unknown-key warnings inside. */
export function FreeMap(): PropertyDecorator {
  return (proto, key) => {
    record(freeMaps, proto, () => new Set<string>()).add(String(key));
  };
}

function protoChain(proto: object | null): object[] {
  const out: object[] = [];
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    out.push(p);
  }
  return out;
}

export function isSensitive(ctor: Ctor, key: string): boolean {
  return protoChain(ctor.prototype as object).some((p) => sensitive.get(p)?.has(key) ?? false);
}

export function nestedOf(
  ctor: Ctor,
  key: string,
): { type: () => Ctor; array: boolean } | undefined {
  for (const p of protoChain(ctor.prototype as object)) {
    const n = nested.get(p)?.get(key);
    if (n) return n;
  }
  return undefined;
}

export function isFreeMap(ctor: Ctor, key: string): boolean {
  return protoChain(ctor.prototype as object).some((p) => freeMaps.get(p)?.has(key) ?? false);
}

/**
 * Booleans as an admin writes them: true/false, "true"/"false" (any case, surrounding blanks).
 * Anything else is left as it is, so the validator reports it with the value.
 */
export function ToBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value === 'string') {
      const v = value.trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
    }
    return value;
  });
}

/**
 * Surrounding blanks mean nothing in this value (a path, a host, a context, a technology):
 * trimmed before validation, so the guide's own `filePath=" "` reads as empty.
 */
export function Trim(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim() : value,
  );
}

/**
 * Cross-key rule: this number must not be above the sibling key's (e.g. reconnectMinDelayMs <=
 * reconnectMaxDelayMs). `@.` in the message is replaced by the block's path by the loader.
 */
export function NotAbove(sibling: string): PropertyDecorator {
  return ValidateBy({
    name: 'notAbove',
    constraints: [sibling],
    validator: {
      validate: (v: unknown, args?: ValidationArguments) => {
        const other = (args?.object as Record<string, unknown> | undefined)?.[sibling];
        return typeof v !== 'number' || typeof other !== 'number' || v <= other;
      },
      defaultMessage: (args?: ValidationArguments) =>
        `must not be above @.${sibling} (${String((args?.object as Record<string, unknown>)[sibling])})`,
    },
  });
}

/** Why `path` is not a readable regular file, or undefined when it is (relative to the working directory). */
export function unreadableFile(path: string): string | undefined {
  const abs = resolve(path);
  try {
    if (!statSync(abs).isFile()) return `${abs} is not a file`;
    accessSync(abs, fsConstants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `file not found: ${abs}`;
    if (code === 'EACCES' || code === 'EPERM') return `file not readable: ${abs}`;
    return `cannot open ${abs} (${code ?? 'error'})`;
  }
}

/** A file that must exist and be readable when the key is set (empty: not used). */
export function ExistingFile(): PropertyDecorator {
  return ValidateBy({
    name: 'existingFile',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || v === '' || !unreadableFile(v),
      defaultMessage: (args?: ValidationArguments) =>
        unreadableFile(String(args?.value)) ?? 'file not readable',
    },
  });
}

/** Numbers as numbers or decimal strings ("5038"). Anything else is left for the validator. */
export function ToNumber(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
    return value;
  });
}

/** A list given as a JSON array, or as a comma-separated string (handy in env variables). */
export function ToStringList(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value === 'string') {
      const t = value.trim();
      if (t === '') return [];
      return t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    }
    return value;
  });
}

/** Every leaf key of a config class tree, as a dotted path (`asterisk.port`); arrays and maps are leaves. */
export function configLeafKeys(ctor: Ctor, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(new ctor())) {
    const path = prefix ? `${prefix}.${k}` : k;
    const nested = nestedOf(ctor, k);
    if (nested && !nested.array && typeof v === 'object')
      out.push(...configLeafKeys(nested.type(), path));
    else out.push(path);
  }
  return out;
}
