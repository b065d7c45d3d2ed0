// Wires the cluster parts (cluster-services.ts) into Nest. Global: the gateway (LineOwnership,
// NegotiationStore), the API (the throttler storage), health's ClusterHealthIndicator and the
// messaging libraries (LineActionGate, AgentStateStore: @app/messaging's seam) use them.
import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AgentStateStore, LineActionGate } from '@app/messaging';
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
    {
      provide: LineActionGate,
      inject: [ClusterServices],
      useFactory: (s: ClusterServices) => s.gate,
    },
    {
      provide: AgentStateStore,
      inject: [ClusterServices],
      useFactory: (s: ClusterServices) => s.agents,
    },
  ],
  exports: [ClusterServices, LineOwnership, NegotiationStore, LineActionGate, AgentStateStore],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(private readonly services: ClusterServices) {}

  async onApplicationShutdown(): Promise<void> {
    await this.services.close();
  }
}
