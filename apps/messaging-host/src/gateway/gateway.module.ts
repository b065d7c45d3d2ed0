import { Module } from '@nestjs/common';
import { ClientGateway } from './client-gateway.service';

/**
 * The client gateway (PROTOCOL.md): plain WebSocket and SignalR on server.port, the same over TLS
 * on server.tlsPort. Needs AppConfig and MessagingRegistry (global); uses LineSettingsStore when a
 * settings module provides it.
 */
@Module({
  providers: [ClientGateway],
  exports: [ClientGateway],
})
export class GatewayModule {}
