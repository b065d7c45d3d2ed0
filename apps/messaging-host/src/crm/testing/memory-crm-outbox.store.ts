/** An in-memory outbox store for unit tests: writes can be made to fail, calls can belong to others. */
import type { Readiness } from '@app/messaging';
import { CrmOutboxStore, type InspectedCall } from '../outbox/crm-outbox.store';
import type { StoredCrmCall } from '../outbox/crm-outbox.types';

export class MemoryCrmOutboxStore extends CrmOutboxStore {
  readonly calls = new Map<string, StoredCrmCall>();
  /** Calls another live node is in charge of. */
  readonly foreign = new Map<string, StoredCrmCall>();
  /** Calls left for this node to take over (its previous run). */
  leftovers: StoredCrmCall[] = [];
  failing = false;
  writes = 0;

  async open(): Promise<void> {}

  async takeOver(): Promise<StoredCrmCall[]> {
    const out = this.leftovers.map((c) => structuredClone(c));
    for (const c of this.leftovers) this.calls.set(c.id, c);
    this.leftovers = [];
    return out;
  }

  async put(call: StoredCrmCall): Promise<void> {
    if (this.failing) throw new Error('store down');
    this.writes += 1;
    this.calls.set(call.id, structuredClone(call));
  }

  async remove(id: string): Promise<void> {
    if (this.failing) throw new Error('store down');
    this.writes += 1;
    this.calls.delete(id);
  }

  async inspect(id: string): Promise<InspectedCall | undefined> {
    const f = this.foreign.get(id);
    if (f) return { call: structuredClone(f), mine: false };
    const c = this.calls.get(id);
    return c ? { call: structuredClone(c), mine: true } : undefined;
  }

  readiness(): Readiness {
    return { ready: !this.failing };
  }

  async close(): Promise<void> {}
}
