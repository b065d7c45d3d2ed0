import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { MessagingHealthIndicator } from './messaging.health';
import { StorageHealthIndicator } from '../settings/storage.health';
import { ClusterHealthIndicator } from '../cluster/cluster.health';

/**
 * Probes for load balancers and Kubernetes: live while the process serves; ready only while the
 * active messaging library is (logged in to Asterisk), the settings store is usable, line
 * ownership can be decided (cluster: Redis reachable) and the process is not shutting down.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly messaging: MessagingHealthIndicator,
    private readonly storage: StorageHealthIndicator,
    private readonly cluster: ClusterHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.messaging.check('messaging'),
      () => this.storage.check('storage'),
      () => this.cluster.check('cluster'),
    ]);
  }
}
