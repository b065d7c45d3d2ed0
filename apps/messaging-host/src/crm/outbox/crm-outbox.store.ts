/**
 * Where the outbox persists (storage.driver): a journal file beside the settings file on one node,
 * Redis for several. Only whole calls are written; each node writes only the calls it is in charge
 * of, so the backends need no merging.
 */
import type { Readiness } from '@app/messaging';
import type { StoredCrmCall } from './crm-outbox.types';

/** What a store knows of a call some node recorded. */
export interface InspectedCall {
  call: StoredCrmCall;
  /** This node is now in charge of it (it was its own, or its owner is gone and it was taken over). */
  mine: boolean;
}

export abstract class CrmOutboxStore {
  /** Opens the backend; an unreachable one does not throw (readiness says why). */
  abstract open(): Promise<void>;
  /**
   * Calls this node is in charge of and did not have yet: at start, those left by its previous run
   * (file) or by nodes whose lease ran out (Redis); later, those of nodes that went away since.
   */
  abstract takeOver(): Promise<StoredCrmCall[]>;
  /** Writes the whole state of a call this node is in charge of. */
  abstract put(call: StoredCrmCall): Promise<void>;
  /** Forgets a call (saved to its end, or given up). */
  abstract remove(id: string): Promise<void>;
  /** A call recorded by any node, for a call first seen mid-way (a restart, a panel that moved). */
  abstract inspect(id: string): Promise<InspectedCall | undefined>;
  abstract readiness(): Readiness;
  /** Finishes writes and lets others take this node's calls over at once (Redis). */
  abstract close(): Promise<void>;
}
