import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';

/**
 * Holds the configuration validated in main.ts before Nest starts (so a bad value stops the
 * process before any port opens). Inject `AppConfig` for typed access; @nestjs/config's
 * ConfigService serves the same values (secrets included) by path, e.g. `asterisk.port`.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => config as unknown as Record<string, unknown>],
        }),
      ],
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig, ConfigModule],
    };
  }
}
