import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { MessagingRegistry } from '@app/messaging';
import { ShutdownState } from '../lifecycle/shutdown-state';

/** Ready when the process is not stopping and the active messaging library says it is ready. */
@Injectable()
export class MessagingHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: MessagingRegistry,
    private readonly shutdown: ShutdownState,
  ) {}

  check(key: string): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    if (this.shutdown.shuttingDown) {
      return indicator.down({ reason: `shutting down (${this.shutdown.why})` });
    }
    const name = this.registry.activeName();
    const r = this.registry.active().readiness();
    if (!r.ready) {
      return indicator.down({ library: name, reason: r.reason ?? 'not ready' });
    }
    return indicator.up({ library: name, ...(r.reason ? { note: r.reason } : {}) });
  }
}
