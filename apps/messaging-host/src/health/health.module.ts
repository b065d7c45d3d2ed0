import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MessagingHealthIndicator } from './messaging.health';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { SettingsModule } from '../settings/settings.module';
import { StorageHealthIndicator } from '../settings/storage.health';
import { ClusterHealthIndicator } from '../cluster/cluster.health';

@Module({
  // Failed probes are expected while Asterisk is away; the AMI client logs the cause once.
  imports: [TerminusModule.forRoot({ logger: false }), LifecycleModule, SettingsModule],
  controllers: [HealthController],
  providers: [MessagingHealthIndicator, StorageHealthIndicator, ClusterHealthIndicator],
})
export class HealthModule {}
