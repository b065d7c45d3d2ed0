/**
 * Which CRM address the service may call, and the rule that keeps a client from choosing it (no
 * SSRF): crm.serviceUrl when set; else a panel's ServiceUrl only when it is one of
 * security.allowedServiceUrls (or below one); else none.
 */
import type { CrmConfig } from '../config/crm.config';

/** The path of Creatio's MsgUtilService under the CRM's base URL. */
export const MSG_UTIL_SERVICE_PATH = '/ServiceModel/MsgUtilService.svc/';

/** Where a line's calls go: a base URL, or why they go nowhere. */
export type CrmTarget = { base: string; off?: undefined } | { base?: undefined; off: string };

/** `scheme://host[:port]/path` (no trailing slash, no credentials, query or fragment), or undefined. */
export function normaliseBaseUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** A client-sent text fit for a log line: no control characters, at most 200 characters. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const t = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return t.length > 200 ? `${t.slice(0, 197)}...` : t;
}

export class CrmTargets {
  private readonly fixed: string | undefined;
  /** allowedServiceUrls, normalised and lower-cased (matched as in security allowlist mode). */
  private readonly allowed: string[];

  constructor(crm: Pick<CrmConfig, 'serviceUrl'>, allowedServiceUrls: readonly string[]) {
    this.fixed = crm.serviceUrl ? normaliseBaseUrl(crm.serviceUrl) : undefined;
    this.allowed = allowedServiceUrls
      .map((u) => normaliseBaseUrl(u)?.toLowerCase())
      .filter((u): u is string => u !== undefined);
  }

  /** crm.serviceUrl, when configured: the only address ever called. */
  get configured(): string | undefined {
    return this.fixed;
  }

  /** The address for a line whose panel sent `serviceUrl` (sessionServiceParams.ServiceUrl). */
  resolve(serviceUrl: string | undefined): CrmTarget {
    if (this.fixed) return { base: this.fixed };
    if (serviceUrl === undefined || serviceUrl.trim() === '') {
      return { off: 'the panel sent no ServiceUrl and crm.serviceUrl is not set' };
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(serviceUrl.trim());
    } catch {
      parsed = undefined;
    }
    const base = normaliseBaseUrl(serviceUrl);
    if (!parsed || !base) {
      return { off: `the panel's ServiceUrl "${printable(serviceUrl)}" is not an http(s) URL` };
    }
    if (parsed.username || parsed.password) {
      return { off: `the panel's ServiceUrl ${base} carries a user name or password` };
    }
    if (this.allowed.length === 0) {
      return {
        off: `crm.serviceUrl is not set and security.allowedServiceUrls is empty, so the panel's ServiceUrl ${base} is not called`,
      };
    }
    if (!this.isAllowed(base)) {
      return { off: `the panel's ServiceUrl ${base} is not in security.allowedServiceUrls` };
    }
    return { base };
  }

  /**
   * The address a stored call goes to now: crm.serviceUrl when set, else its recorded base if the
   * allow-list still holds it (the configuration may have changed since).
   */
  current(recordedBase: string): CrmTarget {
    if (this.fixed) return { base: this.fixed };
    if (recordedBase && this.isAllowed(recordedBase)) return { base: recordedBase };
    return {
      off: `${recordedBase || 'no address'} is no longer allowed (not crm.serviceUrl nor in security.allowedServiceUrls)`,
    };
  }

  private isAllowed(base: string): boolean {
    const b = base.toLowerCase();
    return this.allowed.some((a) => b === a || b.startsWith(`${a}/`));
  }
}
