/**
 * Writes the outbox's calls through to its store. A write the store cannot take (Redis away, disk
 * full) is logged once per outage and remembered; `flush` writes the latest state of those calls
 * again once the store is back. Sending goes on from memory meanwhile.
 */
import type { Logger } from '@nestjs/common';
import type { CrmOutboxStore } from './crm-outbox.store';
import type { StoredCrmCall } from './crm-outbox.types';

export class OutboxWriter {
  private readonly dirty = new Set<string>();
  private failing = false;

  constructor(
    private readonly store: CrmOutboxStore,
    private readonly logger: Pick<Logger, 'log' | 'error'>,
  ) {}

  put(call: StoredCrmCall): void {
    this.store.put(call).then(
      () => this.ok(),
      (err: unknown) => this.failed(call.id, err),
    );
  }

  remove(id: string): void {
    this.store.remove(id).then(
      () => this.ok(),
      (err: unknown) => this.failed(id, err),
    );
  }

  /** Writes again the calls the store missed: `current(id)` is a call's state now (none: removed). */
  flush(current: (id: string) => StoredCrmCall | undefined): void {
    for (const id of [...this.dirty]) {
      this.dirty.delete(id);
      const call = current(id);
      if (call) this.put(call);
      else this.remove(id);
    }
  }

  private ok(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('CRM outbox: the store takes writes again');
  }

  private failed(id: string, err: unknown): void {
    this.dirty.add(id);
    if (this.failing) return;
    this.failing = true;
    this.logger.error(
      `CRM outbox: cannot persist (${err instanceof Error ? err.message : String(err)}); saves go on from memory, a restart now would lose them`,
    );
  }
}
