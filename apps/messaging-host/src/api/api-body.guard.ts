/**
 * Owns when a REST body is read: after the API key and its scope were checked (ApiKeyGuard) and
 * the key's rate limit (ThrottlerGuard), so that a caller without a key learns nothing from a
 * body and costs nothing to refuse. Every /api/v1 route gets the same limits (size, depth, time,
 * media type). The app must not parse bodies itself (API_APP_OPTIONS: bodyParser false).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  HttpException,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LimitClock, systemLimitClock } from '../limits/limit-clock';
import { checkMediaType, hasBody, parseJsonBody, readBody } from './api-body-reader';

/** Options every Nest app serving the REST API is created with: the API reads its own bodies. */
export const API_APP_OPTIONS = { bodyParser: false } as const;

type BodyRequest = IncomingMessage & { body?: unknown };

@Injectable()
export class ApiBodyGuard implements CanActivate {
  private readonly clock: LimitClock;

  constructor(
    private readonly config: AppConfig,
    @Optional() clock?: LimitClock,
  ) {
    this.clock = clock ?? systemLimitClock;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<BodyRequest>();
    const res = context.switchToHttp().getResponse<ServerResponse>();
    if (req.body !== undefined) {
      throw new Error(
        'the REST API reads its own request bodies: create the Nest app with API_APP_OPTIONS ({ bodyParser: false })',
      );
    }
    if (!hasBody(req)) return true;
    const limits = this.config.limits;
    try {
      checkMediaType(req);
      const bytes = await readBody(
        req,
        {
          maxBytes: limits.maxBodyBytes,
          maxDepth: limits.maxBodyDepth,
          timeoutMs: limits.bodyTimeoutMs,
        },
        this.clock,
      );
      req.body = parseJsonBody(bytes, limits.maxBodyDepth);
    } catch (err) {
      // What is left of a refused body is never read: the connection closes after the answer.
      if (err instanceof HttpException && !req.complete) res.setHeader('Connection', 'close');
      throw err;
    }
    return true;
  }
}
