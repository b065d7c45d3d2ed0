import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { lineNameCaseOf, type LineNameCase } from '@app/messaging';
import { AppConfig, type StorageConfig } from '../config/app-config';
import { FileLineSettingsStore } from './file-line-settings.store';
import { LineKeyedSettingsStore } from './line-keyed-settings.store';
import { LineSettingsStore } from './line-settings.store';
import { RedisLineSettingsStore } from './redis-line-settings.store';

/**
 * Opens the store `storage.driver` selects (file by default, redis for several nodes); with
 * `lineCase` ignore-case (chan_sip), lines are kept under their lower-case key.
 */
export async function createLineSettingsStore(
  storage: StorageConfig,
  lineCase: LineNameCase = 'exact',
): Promise<LineSettingsStore> {
  let store: FileLineSettingsStore | RedisLineSettingsStore;
  if (storage.driver === 'redis') {
    store = new RedisLineSettingsStore({
      url: storage.redis.url,
      keyPrefix: storage.redis.keyPrefix,
    });
  } else {
    store = new FileLineSettingsStore(storage.file.path);
  }
  await store.open();
  if (lineCase === 'exact') return store;
  const keyed = new LineKeyedSettingsStore(store, lineCase);
  await keyed.checkStoredKeys().catch(() => undefined);
  return keyed;
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
      useFactory: (config: AppConfig) =>
        createLineSettingsStore(config.storage, lineNameCaseOf(config.asterisk.protocol)),
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
