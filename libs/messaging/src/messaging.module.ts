import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MessagingConfigurableModule } from './messaging.module-definition';
import { MessagingRegistry } from './messaging.registry';

/**
 * `MessagingModule.forRoot({ defaultLibrary })` (global by default): the registry of messaging
 * libraries, built at module init from every provider decorated with @MessagingLibraryProvider.
 * An unknown default or a duplicate name stops the start with MessagingRegistryError.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [MessagingRegistry],
  exports: [MessagingRegistry],
})
export class MessagingModule extends MessagingConfigurableModule {}
