import { LINE_SETTINGS_FIELDS, type StoredLineSettings } from './line-settings.store';

const BOOLEAN_FIELDS = new Set<string>(['disableCallCentre', 'debugMode', 'useBlindTransfer']);

/**
 * Checks settings read back from a backend (file, Redis): an object with known fields of the right
 * types. Throws an Error naming `where` and the offending field; unknown fields are dropped.
 */
export function parseStoredSettings(value: unknown, where: string): StoredLineSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be an object`);
  }
  const out: Record<string, unknown> = {};
  for (const k of LINE_SETTINGS_FIELDS) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || v === null) continue;
    const want = BOOLEAN_FIELDS.has(k) ? 'boolean' : 'string';
    if (typeof v !== want) throw new Error(`${where}.${k} must be a ${want}`);
    out[k] = v;
  }
  return out as StoredLineSettings;
}
