import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { SettingsModule } from '../settings/settings.module';
import { ClusterServices } from '../cluster/cluster-services';
import { ApiAuditInterceptor } from './api-audit.interceptor';
import { ApiBodyGuard } from './api-body.guard';
import { ApiExceptionFilter } from './api-exception.filter';
import { ApiKeyGuard, type RequestWithCaller } from './api-key.guard';
import { ApiLimits } from './api-limits';
import { ApiMessagingService } from './api-messaging.service';
import { ApiValidationPipe } from './api-validation.pipe';
import { CallsController } from './calls.controller';
import { DiagnosticsController } from './diagnostics.controller';
import { LibrariesController } from './libraries.controller';
import { LinesController } from './lines.controller';
import { SettingsController } from './settings.controller';
import { EventStreamService } from '../events/event-stream.service';
import { EventsController } from '../events/events.controller';

/**
 * The REST API for CRM processes under /api/v1 (on the same port as the gateway and health):
 * calls, lines, per-line settings, libraries. Needs MessagingModule (global) and AppConfig.
 * The rate limit counts per API key (api.rateLimit: `limit` requests per `ttlMs`; per node, or
 * for the whole cluster in Redis when cluster.enabled).
 */
@Module({
  imports: [
    SettingsModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, { token: ClusterServices, optional: true }],
      useFactory: (config: AppConfig, cluster?: ClusterServices) => ({
        // cluster.enabled: counted in Redis, so the limit holds for the whole cluster.
        ...(cluster?.throttlerStorage ? { storage: cluster.throttlerStorage } : {}),
        throttlers: [
          { name: 'default', limit: config.api.rateLimit.limit, ttl: config.api.rateLimit.ttlMs },
        ],
        // The guard order puts ApiKeyGuard first: every counted request has a known key.
        getTracker: (req: Record<string, unknown>) =>
          `key:${(req as unknown as RequestWithCaller).apiCaller?.name ?? 'anonymous'}`,
        errorMessage: `rate limit exceeded: at most ${config.api.rateLimit.limit} requests per ${config.api.rateLimit.ttlMs} ms per API key`,
      }),
    }),
  ],
  controllers: [
    CallsController,
    LinesController,
    SettingsController,
    LibrariesController,
    DiagnosticsController,
    EventsController,
  ],
  providers: [
    ApiLimits,
    EventStreamService,
    ApiKeyGuard,
    ApiBodyGuard,
    ApiValidationPipe,
    ApiExceptionFilter,
    ApiAuditInterceptor,
    ApiMessagingService,
  ],
  exports: [EventStreamService],
})
export class ApiModule {}
