import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, type StorageConfig } from '../config/app-config';
import { FileLineSettingsStore } from './file-line-settings.store';
import { LineSettingsStore } from './line-settings.store';
import { RedisLineSettingsStore } from './redis-line-settings.store';

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
 * Binds `LineSettingsStore` to the configured driver and exports it, globally (one instance):
 * the REST API, the gateway (OpenConnection) and health's StorageHealthIndicator inject it.
 */
@Global()
@Module({
  providers: [
    {
      provide: LineSettingsStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createLineSettingsStore(config.storage),
    },
  ],
  exports: [LineSettingsStore],
})
export class SettingsModule implements OnApplicationShutdown {
  constructor(private readonly store: LineSettingsStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
