import type { Readiness } from '@app/messaging';

/**
 * The per-line settings of the seed's user page, named as Creatio's client names them. Set over
 * REST (`/api/v1/lines/{line}/settings`); read by the gateway on OpenConnection and by the
 * originate path (an `originateContext` here wins over `asterisk.originateContext`).
 */
export interface StoredLineSettings {
  disableCallCentre?: boolean;
  debugMode?: boolean;
  useBlindTransfer?: boolean;
  /** Dialplan context for calls made from this line. */
  originateContext?: string;
  /** The CRM user bound to the line. */
  userUId?: string;
}

/** The field names of StoredLineSettings, in the order they are shown. */
export const LINE_SETTINGS_FIELDS = [
  'disableCallCentre',
  'debugMode',
  'useBlindTransfer',
  'originateContext',
  'userUId',
] as const satisfies readonly (keyof StoredLineSettings)[];

/** A merge into stored settings: a field set to null is removed, an absent field is kept. */
export type LineSettingsPatch = {
  [K in keyof StoredLineSettings]?: StoredLineSettings[K] | null;
};

export enum LineSettingsStoreErrorCode {
  /** The backend (file system, Redis) cannot be used now: REST answers 503. */
  StoreUnavailable = 'STORE_UNAVAILABLE',
}

/** A store operation that could not be carried out; `message` never holds a secret. */
export class LineSettingsStoreError extends Error {
  override name = 'LineSettingsStoreError';
  constructor(
    readonly code: LineSettingsStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Where per-line settings live: a JSON file on one node, Redis for several (storage.driver).
 * Inject this abstract class; the settings module binds the configured driver. Every method
 * rejects with a StoreUnavailable-coded error when the backend is away (never silently).
 */
export abstract class LineSettingsStore {
  /** The line's settings, or undefined when none were stored. */
  abstract get(line: string): Promise<StoredLineSettings | undefined>;
  /** Replaces the line's settings; resolves with what is stored. */
  abstract put(line: string, settings: StoredLineSettings): Promise<StoredLineSettings>;
  /** Merges into the line's settings (null removes a field); resolves with what is stored. */
  abstract patch(line: string, settings: LineSettingsPatch): Promise<StoredLineSettings>;
  /** Removes the line's settings; resolves false when there were none. */
  abstract delete(line: string): Promise<boolean>;
  abstract readiness(): Readiness;
  /** Finishes pending writes and releases the backend (called on application shutdown). */
  async close(): Promise<void> {
    // A store without a connection or pending writes has nothing to release.
  }
}

/** Keeps only the known fields with a value (drops undefined and null), in a fixed order. */
export function cleanSettings(settings: LineSettingsPatch): StoredLineSettings {
  const out: Record<string, unknown> = {};
  for (const k of LINE_SETTINGS_FIELDS) {
    const v = settings[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out as StoredLineSettings;
}

/** `base` with `patch` applied: null removes a field, undefined keeps it. */
export function mergeSettings(
  base: StoredLineSettings | undefined,
  patch: LineSettingsPatch,
): StoredLineSettings {
  const merged: LineSettingsPatch = { ...(base ?? {}) };
  for (const k of LINE_SETTINGS_FIELDS) {
    const v = patch[k];
    if (v === null) delete merged[k];
    else if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return cleanSettings(merged);
}
