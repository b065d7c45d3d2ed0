import { Module, type DynamicModule } from '@nestjs/common';
import { exponentialBackoff, type AmiClientOptions } from '@app/ami';
import { MessagingModule } from '@app/messaging';
import { AsteriskModule, type AsteriskLibraryOptions } from '@app/asterisk';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { ApiModule } from './api/api.module';
import { CrmModule } from './crm/crm.module';
import { SettingsModule } from './settings/settings.module';
import { amiClientLogger, amiTrafficTap } from './logging/ami-logging';
import { AmiMetrics } from './metrics/ami-metrics';
import { MetricsModule } from './metrics/metrics.module';
import { ConsoleModule } from './console/console.module';
import { ClusterModule } from './cluster/cluster.module';

/**
 * What the Asterisk library needs, from the validated `asterisk` block; `ami` adds what the
 * service hooks into the AMI client (its loggers and the metrics observer).
 */
export function asteriskOptions(
  config: AppConfig,
  ami: Partial<AmiClientOptions> = {},
): AsteriskLibraryOptions {
  const a = config.asterisk;
  return {
    ami: {
      ...ami,
      host: a.url,
      port: a.port,
      username: a.userName,
      secret: a.secret,
      // AmiSocket sets the TLS servername (SNI) from the host when it is a name, not an IP address.
      tls: a.tls ? { rejectUnauthorized: a.tlsRejectUnauthorized } : false,
      authType: a.authType,
      connectTimeoutMs: a.connectTimeoutMs,
      actionTimeoutMs: a.actionTimeoutMs,
      pingIntervalMs: a.pingIntervalMs,
      pingTimeoutMs: a.pingTimeoutMs,
      maxPacketBytes: a.maxPacketBytes,
      reconnectStrategy: exponentialBackoff({
        minMs: a.reconnectMinDelayMs,
        maxMs: a.reconnectMaxDelayMs,
      }),
      replay: a.filePath
        ? { file: a.filePath, speed: a.replaySpeed, loop: a.replayLoop }
        : undefined,
    },
    protocol: a.protocol,
    originateContext: a.originateContext,
    parkingLotContext: a.effectiveParkingLotContext(),
    autoPauseOnCommutationStart: a.autoPauseOnCommutationStart,
    queueExtensionFormat: a.queueExtensionFormat,
    asyncOriginate: a.asyncOriginate,
    sendRingStartedOnRingingState: a.sendRingStartedOnRingingState,
    traceQueuesState: a.traceQueuesState,
    packetInfoConfig: a.packetInfoConfig,
  };
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LifecycleModule,
        MessagingModule.forRoot({ defaultLibrary: config.messaging.defaultLibrary }),
        MetricsModule.forRoot(config),
        AsteriskModule.forRootAsync({
          inject: [AmiMetrics],
          useFactory: (observer: AmiMetrics) =>
            asteriskOptions(config, {
              logger: amiClientLogger(),
              tap: amiTrafficTap(config.logging),
              observer,
            }),
        }),
        HealthModule,
        SettingsModule,
        ClusterModule,
        CrmModule,
        ...(config.api.enabled ? [ApiModule] : []),
        ...(config.console.enabled ? [ConsoleModule] : []),
        GatewayModule,
      ],
    };
  }
}
