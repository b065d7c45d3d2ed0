import { Module } from '@nestjs/common';
import { AsteriskLibrary } from './asterisk.library';
import { AsteriskConfigurableModule } from './asterisk.module-definition';

/**
 * `AsteriskModule.forRoot(options)`: the Asterisk AMI messaging library. The messaging registry finds
 * it through its @MessagingLibraryProvider decorator; it connects at module init and logs off at
 * application shutdown.
 */
@Module({
  providers: [AsteriskLibrary],
  exports: [AsteriskLibrary],
})
export class AsteriskModule extends AsteriskConfigurableModule {}
