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
  /** Merges into the line's settings; resolves with what is stored. */
  abstract patch(line: string, settings: StoredLineSettings): Promise<StoredLineSettings>;
  /** Removes the line's settings; resolves false when there were none. */
  abstract delete(line: string): Promise<boolean>;
  abstract readiness(): Readiness;
}
