// Wires the cluster parts (cluster-services.ts) into Nest. Global: the gateway (LineOwnership,
// NegotiationStore), the API (the throttler storage) and health's ClusterHealthIndicator use them.
import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { NegotiationStore } from '../gateway/signalr/negotiation-store';
import { ClusterServices, createClusterServices } from './cluster-services';
import { LineOwnership } from './line-ownership';

@Global()
@Module({
  providers: [
    { provide: ClusterServices, inject: [AppConfig], useFactory: createClusterServices },
    {
      provide: LineOwnership,
      inject: [ClusterServices],
      useFactory: (s: ClusterServices) => s.ownership,
    },
    {
      provide: NegotiationStore,
      inject: [ClusterServices],
      useFactory: (s: ClusterServices) => s.negotiation,
    },
  ],
  exports: [ClusterServices, LineOwnership, NegotiationStore],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(private readonly services: ClusterServices) {}

  async onApplicationShutdown(): Promise<void> {
    await this.services.close();
  }
}
