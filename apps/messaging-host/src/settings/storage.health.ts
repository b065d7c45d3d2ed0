import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { LineSettingsStore } from './line-settings.store';

/** /health/ready's `storage`: down while the settings store cannot be used (e.g. Redis away). */
@Injectable()
export class StorageHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly store: LineSettingsStore,
  ) {}

  check(key: string): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const r = this.store.readiness();
    return r.ready
      ? indicator.up(r.reason ? { store: r.reason } : {})
      : indicator.down({ reason: r.reason ?? 'not ready' });
  }
}
