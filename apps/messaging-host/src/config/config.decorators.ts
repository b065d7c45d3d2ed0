import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { IsArray, ValidateNested } from 'class-validator';

type Ctor = new () => object;

const sensitive = new WeakMap<object, Set<string>>();
const nested = new WeakMap<object, Map<string, { type: () => Ctor; array: boolean }>>();
const freeMaps = new WeakMap<object, Set<string>>();

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
