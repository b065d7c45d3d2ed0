// GET <metrics.path> (default /metrics): the Prometheus text format, on the service port; with
// metrics.requireKey an API key with the scope `metrics` is needed (Authorization: Bearer <key>).
import {
  Controller,
  Get,
  Injectable,
  Logger,
  Res,
  UseFilters,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { ApiExceptionFilter } from '../api/api-exception.filter';
import { ApiKeyGuard } from '../api/api-key.guard';
import { RequireScope } from '../api/api-scopes.decorator';
import { MetricsService } from './metrics.service';

interface ResponseLike {
  setHeader(name: string, value: string): void;
  send(body: string): void;
}

/** Open, or the API key guard with the scope `metrics` when metrics.requireKey is on. */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly keys: ApiKeyGuard | undefined;

  constructor(config: AppConfig, reflector: Reflector) {
    if (!config.metrics.requireKey) return;
    this.keys = new ApiKeyGuard(config, reflector);
    if (!config.api.keys.some((k) => k.scopes.includes('metrics'))) {
      new Logger('Metrics').warn(
        `metrics.requireKey is on but no api.keys entry has the scope 'metrics': every scrape of ${config.metrics.path} is refused`,
      );
    }
  }

  canActivate(context: ExecutionContext): boolean {
    return this.keys ? this.keys.canActivate(context) : true;
  }
}

/** The controller serving `path` (a class per path: the path comes from the configuration). */
export function metricsController(path: string): Type<unknown> {
  @ApiExcludeController()
  @Controller()
  @UseGuards(MetricsAccessGuard)
  @UseFilters(ApiExceptionFilter)
  class MetricsController {
    constructor(private readonly metrics: MetricsService) {}

    @Get(path)
    @RequireScope('metrics')
    async scrape(@Res() res: ResponseLike): Promise<void> {
      const body = await this.metrics.render();
      res.setHeader('Content-Type', this.metrics.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    }
  }
  return MetricsController;
}
