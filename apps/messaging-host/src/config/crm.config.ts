/**
 * The `crm` block: saving every call in the CRM (Creatio's MsgUtilService UpdateCall), the outbox
 * that keeps those saves across CRM outages and restarts, and LogInMsgServer for security.mode crm.
 */
import {
  ArrayNotEmpty,
  IsBoolean,
  IsInt,
  IsString,
  Max,
  Min,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import { Nested, Sensitive, ToBoolean, ToNumber, ToStringList } from './config.decorators';

/** Whether `v` is an http(s) URL without credentials, query or fragment ('' = not set). */
export function isCrmBaseUrl(v: unknown): boolean {
  if (v === '') return true;
  if (typeof v !== 'string') return false;
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    return false;
  }
  return (
    (u.protocol === 'http:' || u.protocol === 'https:') &&
    u.username === '' &&
    u.password === '' &&
    u.search === '' &&
    u.hash === ''
  );
}

export class CrmOutboxConfig {
  /** Changes waiting for the CRM on this node; when full, the oldest is dropped (error log). */
  @ToNumber()
  @IsInt()
  @Min(10)
  maxRecords = 10000;

  /** First delay before a failed save is tried again, ms (grows to retryMaxDelayMs, with jitter). */
  @ToNumber()
  @IsInt()
  @Min(10)
  retryMinDelayMs = 1000;

  /** Largest delay between two tries of a save, ms. */
  @ToNumber()
  @IsInt()
  @Min(10)
  @ValidateBy({
    name: 'notBelowMin',
    validator: {
      validate: (v: unknown, args?: ValidationArguments) =>
        typeof v !== 'number' || v >= (args?.object as CrmOutboxConfig).retryMinDelayMs,
      defaultMessage: () => 'must not be below crm.outbox.retryMinDelayMs',
    },
  })
  retryMaxDelayMs = 60000;

  /** A change not saved within this time is given up (error log; the call shows `failed`), ms. */
  @ToNumber()
  @IsInt()
  @Min(1000)
  maxAgeMs = 24 * 60 * 60 * 1000;

  /**
   * Redis store: a node renews its claim on its outbox this often (x3 is its lease); the calls of a
   * node whose lease ran out (crashed, gone) are taken over by another node or its restart, ms.
   */
  @ToNumber()
  @IsInt()
  @Min(300)
  ownerLeaseMs = 15000;
}

export class CrmConfig {
  /** Save every call of the lines this node holds in the CRM (UpdateCall). */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  saveCalls = true;

  /**
   * The CRM's base URL (Creatio's workspace address, e.g. https://crm.example.com/0). When set, it
   * is the only address the service ever calls; the panels' ServiceUrl is not used. Shown as ***
   * in messages: an admin might paste one with a password in it (refused, but not printed).
   */
  @Sensitive()
  @IsString()
  @ValidateBy({
    name: 'isCrmBaseUrl',
    validator: {
      validate: (v: unknown) => isCrmBaseUrl(v),
      defaultMessage: () =>
        'must be an http:// or https:// URL without user, password, query or fragment (or empty)',
    },
  })
  serviceUrl = '';

  /** Time allowed for one request to the CRM, ms. */
  @ToNumber()
  @IsInt()
  @Min(100)
  @Max(120000)
  timeoutMs = 10000;

  /** Requests to the CRM in flight at once (one call's changes always go one after the other). */
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(64)
  concurrency = 4;

  /** Licence names sent to LogInMsgServer (security.mode crm). */
  @ToStringList()
  @ArrayNotEmpty()
  @IsString({ each: true })
  licInfoKeys: string[] = ['BPMonlineAsteriskConnector.Use'];

  /** How long a LogInMsgServer answer (allowed or refused) is kept per user, ms; 0 asks every time. */
  @ToNumber()
  @IsInt()
  @Min(0)
  loginCacheMs = 60000;

  @Nested(() => CrmOutboxConfig)
  outbox = new CrmOutboxConfig();
}

/**
 * On AppConfig's `crm`: security.mode `crm` needs an address to ask (crm.serviceUrl, or at least
 * one security.allowedServiceUrls entry that a panel's ServiceUrl can match).
 */
export function CrmModeHasAddress(): PropertyDecorator {
  return ValidateBy({
    name: 'crmModeHasAddress',
    validator: {
      validate: (_v: unknown, args?: ValidationArguments) => {
        const root = args?.object as
          | {
              crm?: CrmConfig;
              security?: { mode?: string; allowedServiceUrls?: string[] };
            }
          | undefined;
        if (root?.security?.mode !== 'crm') return true;
        return Boolean(root.crm?.serviceUrl) || (root.security.allowedServiceUrls ?? []).length > 0;
      },
      defaultMessage: () =>
        'security.mode crm asks the CRM (LogInMsgServer): set crm.serviceUrl or security.allowedServiceUrls',
    },
  });
}
