// The metrics module (global): MetricsService (the registry any module registers into), the AMI
// observer, the gateway observer, the state read at scrape time (the service's, the CRM module's),
// and the endpoint at metrics.path.
import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { GATEWAY_OBSERVER } from '../gateway/gateway-observer';
import { AmiMetrics } from './ami-metrics';
import { CrmPrometheus } from './crm-prometheus';
import { GatewayMetrics } from './gateway-metrics';
import { MetricsAccessGuard, metricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { ServiceMetrics } from './service-metrics';

@Global()
@Module({
  providers: [
    MetricsService,
    AmiMetrics,
    GatewayMetrics,
    ServiceMetrics,
    CrmPrometheus,
    MetricsAccessGuard,
    { provide: GATEWAY_OBSERVER, useExisting: GatewayMetrics },
  ],
  exports: [MetricsService, AmiMetrics, GatewayMetrics, ServiceMetrics, GATEWAY_OBSERVER],
})
export class MetricsModule {
  /** The module with the endpoint at `metrics.path` when `metrics.enabled`. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      controllers: config.metrics.enabled ? [metricsController(config.metrics.path)] : [],
    };
  }
}
