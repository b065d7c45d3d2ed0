import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, type StorageConfig } from '../config/app-config';
import { FileLineSettingsStore } from './file-line-settings.store';
import { LineSettingsStore } from './line-settings.store';
import { RedisLineSettingsStore } from './redis-line-settings.store';
import { StorageHealthIndicator } from './storage.health';

/** Opens the store `storage.driver` selects (file by default, redis for several nodes). */
export async function createLineSettingsStore(storage: StorageConfig): Promise<LineSettingsStore> {
  if (storage.driver === 'redis') {
    const store = new RedisLineSettingsStore({
      url: storage.redis.url,
      keyPrefix: storage.redis.keyPrefix,
    });
    await store.open();
    return store;
  }
  const store = new FileLineSettingsStore(storage.file.path);
  await store.open();
  return store;
}

/**
 * Binds `LineSettingsStore` to the configured driver and exports it, with the `storage` health
 * indicator. Import it wherever the settings are needed (REST, gateway); it is one instance.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: LineSettingsStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createLineSettingsStore(config.storage),
    },
    StorageHealthIndicator,
  ],
  exports: [LineSettingsStore, StorageHealthIndicator],
})
export class SettingsModule implements OnApplicationShutdown {
  constructor(private readonly store: LineSettingsStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
