// /health/ready's `cluster`: down while line ownership cannot be decided (the cluster's Redis is
// away), with the reason; up with this node's id and its lease count otherwise.
import { Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ClusterServices } from './cluster-services';

@Injectable()
export class ClusterHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Optional() private readonly services?: ClusterServices,
  ) {}

  check(key: string): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    if (!this.services?.enabled) return indicator.up({ mode: 'single node' });
    const r = this.services.ownership.readiness();
    return r.ready
      ? indicator.up({ node: this.services.nodeId, ...(r.reason ? { note: r.reason } : {}) })
      : indicator.down({ node: this.services.nodeId, reason: r.reason ?? 'not ready' });
  }
}
