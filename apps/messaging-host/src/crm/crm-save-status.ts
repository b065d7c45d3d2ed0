/**
 * What REST shows of a call's saving (GET /api/v1/calls/{id}): pending, saved, failed with the last
 * error, off (this line's calls are not saved, and why), elsewhere (another node saves it). Keeps
 * the outcome of calls that left the outbox for a while, and the calls another node saves.
 */
import type { Call } from '@app/messaging';
import type { CallSave } from './outbox/crm-outbox';

export type CrmSaveState = 'pending' | 'saved' | 'failed' | 'off' | 'elsewhere';

export interface CrmSaveStatus {
  state: CrmSaveState;
  /** The CRM record of the call, once known. */
  databaseUId?: string;
  /** Changes of the call waiting to be saved. */
  pending: number;
  /** Failed tries of the change being sent now. */
  attempts?: number;
  /** The last error (pending: of the last try; failed: why changes were given up; off: why). */
  lastError?: string;
}

/** A call that left the outbox, as REST shows it afterwards. */
export interface FinishedSave extends CrmSaveStatus {
  line: string;
  /** The call's last state. */
  call: Call | undefined;
}

const FINISHED_MAX = 1000;
const ELSEWHERE_MAX = 10_000;

export class CrmSaveStatusBook {
  private readonly done = new Map<string, FinishedSave>();
  /** Calls another node saves: their databaseUId ('' while unknown). */
  private readonly others = new Map<string, string>();

  statusOf(save: CallSave): CrmSaveStatus {
    const s = save.stored;
    const pending = s.changes.length;
    const state =
      pending > 0 ? 'pending' : save.failed ? 'failed' : s.databaseUId ? 'saved' : 'pending';
    return {
      state,
      ...(s.databaseUId ? { databaseUId: s.databaseUId } : {}),
      pending,
      ...(save.attempts > 0 ? { attempts: save.attempts } : {}),
      ...(save.lastError || save.failed ? { lastError: save.lastError ?? save.failed } : {}),
    };
  }

  /** A call saved to its end, or given up. */
  finished(save: CallSave): void {
    if (this.done.size >= FINISHED_MAX) this.done.delete(this.done.keys().next().value!);
    this.done.set(save.stored.id, {
      ...this.statusOf(save),
      line: save.stored.line,
      call: save.stored.last,
    });
  }

  get(id: string): FinishedSave | undefined {
    return this.done.get(id);
  }

  markElsewhere(id: string, databaseUId: string): void {
    if (this.others.size >= ELSEWHERE_MAX) this.others.delete(this.others.keys().next().value!);
    this.others.set(id, databaseUId);
  }

  /** Another node saves the call: its databaseUId when known. */
  elsewhere(id: string): { databaseUId: string | undefined } | undefined {
    const d = this.others.get(id);
    return d === undefined ? undefined : { databaseUId: d || undefined };
  }

  forgetElsewhere(id: string): void {
    this.others.delete(id);
  }

  elsewhereStatus(id: string): CrmSaveStatus | undefined {
    const e = this.elsewhere(id);
    if (!e) return undefined;
    return {
      state: 'elsewhere',
      ...(e.databaseUId ? { databaseUId: e.databaseUId } : {}),
      pending: 0,
    };
  }
}
