import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  Optional,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig, type ApiScope } from '../config/app-config';
import { AuthFailureLimiter } from '../limits/auth-failure-limiter';
import { systemLimitClock } from '../limits/limit-clock';
import { addressOf, LimitLog } from '../limits/limit-log';
import { ApiLimits } from './api-limits';
import { RequiredScopes } from './api-scopes.decorator';

/** Who called: set on the request by ApiKeyGuard (the throttler counts per key name). */
export interface ApiCaller {
  name: string;
  scopes: ReadonlySet<ApiScope>;
}

export interface RequestWithCaller {
  headers: Record<string, string | string[] | undefined>;
  apiCaller?: ApiCaller;
  socket?: { remoteAddress?: string };
}

interface ResponseLike {
  setHeader(name: string, value: string): void;
}

interface KnownKey {
  name: string;
  digest: Buffer;
  scopes: Set<ApiScope>;
}

/**
 * `Authorization: Bearer <key>`: the key's SHA-256 is compared in constant time with every
 * configured digest (api.keys; no key is stored in clear). 401 without a key or with an unknown
 * one, 403 when the key lacks the route's scope. The key never reaches a log or an answer. An
 * address with limits.authFailuresPerAddress failures in the window gets 429 (Retry-After) for
 * the rest of it, whatever key it sends. Runs before the body is read (ApiBodyGuard).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger(ApiKeyGuard.name);
  private readonly keys: KnownKey[];

  private readonly authFailures: AuthFailureLimiter;
  private readonly limitLog: LimitLog;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
    /** The API's limits; a guard made elsewhere (metrics) counts failed keys on its own. */
    @Optional() limits?: ApiLimits,
  ) {
    this.authFailures =
      limits?.authFailures ??
      new AuthFailureLimiter(
        config.limits.authFailuresPerAddress,
        config.limits.authFailureWindowMs,
        systemLimitClock,
      );
    this.limitLog = limits?.log ?? new LimitLog(new Logger('Limits'), systemLimitClock);
    this.keys = config.api.keys.map((k) => ({
      name: k.name,
      digest: Buffer.from(k.sha256, 'hex'),
      scopes: new Set(k.scopes),
    }));
    if (this.keys.length === 0) {
      this.logger.warn('api.keys is empty: every /api/v1 request is refused with 401');
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<RequestWithCaller>();
    const address = addressOf(req.socket?.remoteAddress);
    const blockedMs = this.authFailures.blockedFor(address);
    if (blockedMs > 0) this.tooManyFailures(context, address, blockedMs);
    let caller: ApiCaller;
    try {
      caller = this.authenticate(req.headers['authorization']);
    } catch (err) {
      if (this.authFailures.fail(address)) {
        this.limitLog.hit(
          'authFailuresPerAddress',
          address,
          `${this.authFailures.limitCount} requests without a valid API key: refused with 429 until the window ends`,
        );
      }
      throw err;
    }
    const required = this.reflector.getAllAndOverride(RequiredScopes, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required && required.length > 0 && !required.some((s) => caller.scopes.has(s))) {
      throw new ForbiddenException({
        message: `API key '${caller.name}' lacks the scope this route needs: ${required.join(' or ')}`,
        code: 'FORBIDDEN',
      });
    }
    req.apiCaller = caller;
    return true;
  }

  private tooManyFailures(context: ExecutionContext, address: string, blockedMs: number): never {
    const seconds = Math.max(1, Math.ceil(blockedMs / 1000));
    context.switchToHttp().getResponse<ResponseLike>().setHeader('Retry-After', String(seconds));
    this.limitLog.hit(
      'authFailuresPerAddress',
      address,
      'requests while blocked for failed API keys: refused with 429',
    );
    throw new HttpException(
      {
        message: `too many requests without a valid API key from this address: try again in ${seconds} s`,
        code: 'RATE_LIMITED',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  private authenticate(header: string | string[] | undefined): ApiCaller {
    if (header === undefined || header === '') {
      throw new UnauthorizedException({
        message: 'an API key is required: Authorization: Bearer <key>',
        code: 'UNAUTHORIZED',
      });
    }
    const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!m) {
      throw new UnauthorizedException({
        message: 'the Authorization header must be "Bearer <key>"',
        code: 'UNAUTHORIZED',
      });
    }
    const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: KnownKey | undefined;
    // Every configured digest is compared, whichever matches, so the time says nothing.
    for (const k of this.keys) {
      if (k.digest.length === digest.length && timingSafeEqual(k.digest, digest)) found ??= k;
    }
    if (!found) {
      throw new UnauthorizedException({ message: 'unknown API key', code: 'UNAUTHORIZED' });
    }
    return { name: found.name, scopes: found.scopes };
  }
}
