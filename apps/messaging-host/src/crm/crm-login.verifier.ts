/**
 * security.mode `crm`: at OpenConnection the claimed UserUId is checked with the CRM's
 * LogInMsgServer (as Creatio's own panels do for other connectors). A refusal is an ERROR of type 6
 * (Creatio's AUTHENTICATION_ERROR) with the CRM's text, and the socket closes. Answers are kept per
 * user and CRM for crm.loginCacheMs; concurrent checks of one user share one request.
 */
import { Injectable, Logger } from '@nestjs/common';
import { MsgErrorType } from '@app/messaging';
import { AppConfig } from '../config/app-config';
import {
  OpenConnectionVerifier,
  type OpenConnectionClaim,
  type OpenConnectionRefusal,
} from '../gateway/line-observer';
import { CrmError } from './crm.errors';
import { CrmMetrics } from './crm-metrics';
import { CrmTargets } from './crm-target';
import { MsgUtilServiceClient, isGuid } from './msg-util-service.client';

/** internalErrorCode of the refusals. */
export enum CrmLoginRefusal {
  /** The CRM refused the user (its text follows). */
  Refused = 'CRM_LOGIN_REFUSED',
  /** The CRM could not be asked (down, error, no allowed address). */
  Unavailable = 'CRM_LOGIN_UNAVAILABLE',
  /** UserUId is not a GUID: nothing to ask. */
  BadUser = 'CRM_LOGIN_BAD_USER',
}

/** At most this many answers are kept (the oldest goes first). */
const CACHE_MAX = 10_000;

interface Cached {
  until: number;
  /** null: allowed; else the CRM's refusal text. */
  refusal: string | null;
}

@Injectable()
export class CrmLoginVerifier extends OpenConnectionVerifier {
  private readonly logger = new Logger('CrmLogin');
  private readonly cache = new Map<string, Cached>();
  private readonly asking = new Map<string, Promise<OpenConnectionRefusal | null>>();

  constructor(
    private readonly config: AppConfig,
    private readonly client: MsgUtilServiceClient,
    private readonly targets: CrmTargets,
    private readonly metrics: CrmMetrics,
  ) {
    super();
  }

  async verify(claim: OpenConnectionClaim): Promise<OpenConnectionRefusal | null> {
    const target = this.targets.resolve(claim.serviceUrl);
    if (target.off !== undefined) {
      this.logger.warn(
        `line ${claim.line} from ${claim.peer}: the user cannot be checked: ${target.off}`,
      );
      return refusal(
        CrmLoginRefusal.Unavailable,
        `the user cannot be checked with the CRM: ${target.off}`,
      );
    }
    if (!isGuid(claim.userUId)) {
      return refusal(
        CrmLoginRefusal.BadUser,
        "sessionServiceParams.UserUId must be the CRM user's GUID (security.mode crm)",
      );
    }
    const key = `${target.base}\n${claim.userUId.toLowerCase()}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.refusal === null ? null : refused(hit.refusal);
    if (hit) this.cache.delete(key);
    let pending = this.asking.get(key);
    if (!pending) {
      pending = this.ask(target.base, claim, key).finally(() => this.asking.delete(key));
      this.asking.set(key, pending);
    }
    return pending;
  }

  private async ask(
    base: string,
    claim: OpenConnectionClaim,
    key: string,
  ): Promise<OpenConnectionRefusal | null> {
    const user = claim.userUId.toLowerCase();
    try {
      const answer = await this.client.logIn(base, user, this.config.crm.licInfoKeys);
      if (answer.allowed) {
        this.metrics.update((m) => (m.logins.allowed += 1));
        this.remember(key, null);
        return null;
      }
      this.metrics.update((m) => (m.logins.refused += 1));
      this.logger.warn(
        `line ${claim.line} from ${claim.peer}: the CRM refused user ${user}: ${answer.text}`,
      );
      this.remember(key, answer.text);
      return refused(answer.text);
    } catch (err) {
      this.metrics.update((m) => (m.logins.error += 1));
      const why = err instanceof CrmError ? err.message : String(err);
      this.logger.warn(`line ${claim.line} from ${claim.peer}: cannot check user ${user}: ${why}`);
      // Not kept: the next attempt asks again.
      return refusal(
        CrmLoginRefusal.Unavailable,
        `the user cannot be checked with the CRM: ${why}`,
      );
    }
  }

  private remember(key: string, text: string | null): void {
    const ttl = this.config.crm.loginCacheMs;
    if (ttl <= 0) return;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { until: Date.now() + ttl, refusal: text });
  }
}

function refused(text: string): OpenConnectionRefusal {
  return refusal(CrmLoginRefusal.Refused, text);
}

function refusal(code: CrmLoginRefusal, message: string): OpenConnectionRefusal {
  return { errorType: MsgErrorType.AUTHENTICATION, code, message };
}
