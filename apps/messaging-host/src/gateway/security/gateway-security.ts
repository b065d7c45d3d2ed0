import { SecurityMode, type SecurityConfig } from '../../config/app-config';
import { verifyGatewayToken } from './gateway-token';

/** What OpenConnection claims, and where the client came from. */
export interface OpenClaim {
  /** The browser's Origin header of the socket (or of the negotiate), if any. */
  origin: string | undefined;
  /** `?token=` of the socket URL. */
  queryToken: string | undefined;
  /** sessionServiceParams.Token. */
  paramsToken: string | undefined;
  serviceUrl: string | undefined;
  user: string;
  line: string;
}

function normaliseUrl(u: string): string | undefined {
  try {
    const url = new URL(u.trim());
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The security modes of the `security` configuration (PROTOCOL.md "Security"):
 * - none: every client is trusted (the original's behaviour);
 * - allowlist: a browser Origin, when sent, must be one of allowedOrigins; the CRM ServiceUrl of
 *   sessionServiceParams must be one of allowedServiceUrls (or below one of them);
 * - token: a signed token (HS256, claims sub/line/exp) must bind the claimed user to the line;
 * - crm: the claimed user is checked with the CRM (LogInMsgServer, by the CRM module), and a
 *   browser Origin against allowedOrigins when that list is set.
 * Each check returns the reason of a refusal, or null.
 */
export class GatewaySecurity {
  private readonly origins: Set<string>;
  private readonly serviceUrls: string[];

  constructor(private readonly config: SecurityConfig) {
    this.origins = new Set(
      config.allowedOrigins.map((o) => o.trim().replace(/\/+$/, '').toLowerCase()),
    );
    this.serviceUrls = config.allowedServiceUrls
      .map((u) => normaliseUrl(u))
      .filter((u): u is string => u !== undefined);
  }

  get mode(): SecurityMode {
    return this.config.mode;
  }

  /** Whether a browser Origin may talk to this service (CORS of negotiate, socket upgrades). */
  originAllowed(origin: string | undefined): boolean {
    // crm mode checks Origins too when security.allowedOrigins names some.
    const checked =
      this.config.mode === SecurityMode.AllowList ||
      (this.config.mode === SecurityMode.Crm && this.origins.size > 0);
    if (!checked) return true;
    if (origin === undefined || origin === '') return true;
    return this.origins.has(origin.trim().replace(/\/+$/, '').toLowerCase());
  }

  /** Checks an OpenConnection; the reason of a refusal, or null. */
  checkOpen(claim: OpenClaim): string | null {
    switch (this.config.mode) {
      case SecurityMode.None:
        return null;
      case SecurityMode.AllowList: {
        if (!this.originAllowed(claim.origin)) {
          return `the browser origin ${claim.origin} is not in security.allowedOrigins`;
        }
        if (this.serviceUrls.length > 0) {
          const url = claim.serviceUrl ? normaliseUrl(claim.serviceUrl) : undefined;
          if (!url) return 'sessionServiceParams.ServiceUrl is missing or not a URL';
          const ok = this.serviceUrls.some((a) => url === a || url.startsWith(`${a}/`));
          if (!ok)
            return `the ServiceUrl ${claim.serviceUrl} is not in security.allowedServiceUrls`;
        }
        return null;
      }
      case SecurityMode.Token: {
        if (!claim.user) return 'token mode needs sessionServiceParams.UserUId';
        const fault = verifyGatewayToken(
          claim.queryToken || claim.paramsToken,
          this.config.tokenSecret,
          { user: claim.user, line: claim.line },
        );
        return fault ? `token refused: ${fault}` : null;
      }
      case SecurityMode.Crm:
        // The user is checked with the CRM afterwards (OpenConnectionVerifier, LogInMsgServer).
        if (!this.originAllowed(claim.origin)) {
          return `the browser origin ${claim.origin} is not in security.allowedOrigins`;
        }
        return null;
      default:
        return `unknown security mode`;
    }
  }
}
