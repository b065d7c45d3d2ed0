/**
 * The CRM module: every call saved in Creatio (UpdateCall, event 15, databaseUId), its persistent
 * outbox in the storage driver's backend, and security.mode crm (LogInMsgServer). Global: the
 * gateway finds its LineObserver and OpenConnectionVerifier, the REST API its CrmCallRecorder.
 */
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LineObserver, OpenConnectionVerifier } from '../gateway/line-observer';
import { CrmCallRecorder } from './crm-call-recorder.service';
import { CrmLoginVerifier } from './crm-login.verifier';
import { CrmMetrics } from './crm-metrics';
import { CrmTargets } from './crm-target';
import { MsgUtilServiceClient } from './msg-util-service.client';
import { CrmOutboxStore } from './outbox/crm-outbox.store';
import { FileCrmOutboxStore, outboxJournalPath } from './outbox/file-crm-outbox.store';
import { RedisCrmOutboxStore } from './outbox/redis-crm-outbox.store';

/** The outbox's backend for `storage.driver` (not opened yet: the recorder opens it). */
export function createCrmOutboxStore(config: AppConfig): CrmOutboxStore {
  const storage = config.storage;
  if (storage.driver === 'redis') {
    return new RedisCrmOutboxStore({
      url: storage.redis.url,
      keyPrefix: storage.redis.keyPrefix,
      leaseMs: config.crm.outbox.ownerLeaseMs,
    });
  }
  return new FileCrmOutboxStore(outboxJournalPath(storage.file.path));
}

@Global()
@Module({
  providers: [
    CrmMetrics,
    {
      provide: CrmTargets,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new CrmTargets(config.crm, config.security.allowedServiceUrls),
    },
    {
      provide: MsgUtilServiceClient,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new MsgUtilServiceClient({ timeoutMs: config.crm.timeoutMs }),
    },
    { provide: CrmOutboxStore, inject: [AppConfig], useFactory: createCrmOutboxStore },
    CrmCallRecorder,
    { provide: LineObserver, useExisting: CrmCallRecorder },
    CrmLoginVerifier,
    { provide: OpenConnectionVerifier, useExisting: CrmLoginVerifier },
  ],
  exports: [CrmCallRecorder, LineObserver, OpenConnectionVerifier, CrmMetrics],
})
export class CrmModule {}
