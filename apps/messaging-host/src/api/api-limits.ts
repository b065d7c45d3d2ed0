/**
 * Owns the REST API's share of the limits: failed API keys per address (429 with Retry-After),
 * the log of limit hits (once per address per minute), and, at bootstrap, the HTTP listener's
 * limits and the check that the app leaves request bodies to the API (API_APP_OPTIONS).
 */
import type { Server as HttpServer } from 'node:http';
import { Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { AuthFailureLimiter } from '../limits/auth-failure-limiter';
import { applyHttpServerLimits } from '../limits/http-server-limits';
import { LimitClock, systemLimitClock } from '../limits/limit-clock';
import { LimitLog } from '../limits/limit-log';

@Injectable()
export class ApiLimits implements OnApplicationBootstrap {
  readonly authFailures: AuthFailureLimiter;
  readonly log: LimitLog;
  readonly clock: LimitClock;

  constructor(
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() clock?: LimitClock,
  ) {
    this.clock = clock ?? systemLimitClock;
    const { authFailuresPerAddress, authFailureWindowMs } = config.limits;
    this.authFailures = new AuthFailureLimiter(
      authFailuresPerAddress,
      authFailureWindowMs,
      this.clock,
    );
    this.log = new LimitLog(new Logger('Limits'), this.clock);
  }

  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter as
      { isMiddlewareApplied?(name: string): boolean; getHttpServer(): unknown } | undefined;
    if (!adapter) return;
    if (adapter.isMiddlewareApplied?.('jsonParser')) {
      throw new Error(
        'the REST API reads its own request bodies (after the API key): create the Nest app with API_APP_OPTIONS ({ bodyParser: false })',
      );
    }
    const server = adapter.getHttpServer() as HttpServer | undefined;
    if (server) applyHttpServerLimits(server, this.config.limits, this.log);
  }
}
