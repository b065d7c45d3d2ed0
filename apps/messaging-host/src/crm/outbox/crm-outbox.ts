/**
 * The outbox of this node: every change of every call it saves, kept (persisted in the store) until
 * the CRM took it. Sends one call's changes one after the other, oldest first, so a newer state
 * never goes before an older one; several calls at once (crm.concurrency). A CRM that is away is
 * retried with capped exponential backoff and jitter; a full outbox drops its oldest change.
 */
import type { Logger } from '@nestjs/common';
import { exponentialBackoff, type ReconnectStrategy } from '@app/ami';
import { CallState, MsgEventType, type Call } from '@app/messaging';
import { wireCall } from '../../gateway/protocol/client-protocol';
import { CrmError, CrmErrorCode } from '../crm.errors';
import type { CrmMetrics } from '../crm-metrics';
import type { CrmTarget } from '../crm-target';
import type { CrmOutboxStore } from './crm-outbox.store';
import type { OutboxChange, StoredCrmCall } from './crm-outbox.types';
import { OutboxWriter } from './outbox-writer';

/** A call this node saves, with its sending state. */
export interface CallSave {
  readonly stored: StoredCrmCall;
  inFlight: boolean;
  /** Failed tries of the head change in a row. */
  attempts: number;
  /** Not before (epoch ms): this call's own backoff. */
  nextAt: number;
  lastError?: string;
  /** Why changes of this call were given up (dropped, too old, no address). */
  failed?: string;
}

export interface CrmOutboxLimits {
  maxRecords: number;
  maxAgeMs: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  concurrency: number;
}

export interface CrmOutboxDeps {
  store: CrmOutboxStore;
  /** UpdateCall; resolves with the record's GUID, rejects with CrmError. */
  updateCall(base: string, body: Record<string, unknown>, signal: AbortSignal): Promise<string>;
  /** Where a stored call's changes go now (the SSRF rule). */
  target(recordedBase: string): CrmTarget;
  metrics: CrmMetrics;
  limits: CrmOutboxLimits;
  /** The first save of a call answered its databaseUId (event 15 follows). */
  onFirstSave(save: CallSave): void;
  /** A call left the outbox (saved to its end, or given up). */
  onFinished(save: CallSave): void;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
  now?: () => number;
}

/** The UpdateCall body of a change: the panel's Call with the record's id and the operator. */
export function updateCallBody(
  stored: StoredCrmCall,
  change: OutboxChange,
): Record<string, unknown> {
  return wireCall({
    ...change.call,
    ...(stored.databaseUId ? { databaseUId: stored.databaseUId } : {}),
    ...(stored.contact ? { userContactUId: stored.contact } : {}),
  });
}

export class CrmOutbox {
  private readonly calls = new Map<string, CallSave>();
  /** Calls with changes waiting, in the order they got their first waiting change. */
  private readonly ready = new Set<CallSave>();
  private readonly crmState = new Map<string, { failures: number; blockedUntil: number }>();
  private readonly aborts = new Set<AbortController>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly writer: OutboxWriter;
  private readonly callBackoff: ReconnectStrategy;
  private readonly crmBackoff: ReconnectStrategy;
  private readonly now: () => number;
  private depth = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private pumpQueued = false;
  private closed = false;

  constructor(private readonly deps: CrmOutboxDeps) {
    const { retryMinDelayMs: minMs, retryMaxDelayMs: maxMs } = deps.limits;
    this.callBackoff = exponentialBackoff({ minMs, maxMs, jitter: 0.5 });
    this.crmBackoff = exponentialBackoff({ minMs, maxMs, jitter: 0.5 });
    this.now = deps.now ?? Date.now;
    this.writer = new OutboxWriter(deps.store, deps.logger);
  }

  get(id: string): CallSave | undefined {
    return this.calls.get(id);
  }

  /** Changes waiting, calls held. */
  sizes(): { depth: number; calls: number; inFlight: number } {
    return { depth: this.depth, calls: this.calls.size, inFlight: this.inFlight.size };
  }

  /** A new call to save (its first change follows with `record`). */
  create(init: { id: string; line: string; base: string; contact?: string }): CallSave {
    const save: CallSave = {
      stored: {
        v: 1,
        id: init.id,
        line: init.line,
        base: init.base,
        ...(init.contact ? { contact: init.contact } : {}),
        announced: false,
        ended: false,
        changes: [],
      },
      inFlight: false,
      attempts: 0,
      nextAt: 0,
    };
    this.calls.set(init.id, save);
    this.gauges();
    return save;
  }

  /** A call from the store (this node's previous run, or a node that is gone). */
  adopt(stored: StoredCrmCall): CallSave {
    const known = this.calls.get(stored.id);
    if (known) return known;
    const save: CallSave = { stored, inFlight: false, attempts: 0, nextAt: 0 };
    this.calls.set(stored.id, save);
    for (const c of stored.changes) this.seq = Math.max(this.seq, c.seq);
    this.depth += stored.changes.length;
    if (stored.changes.length > 0) this.ready.add(save);
    else if (stored.ended) this.persist(save);
    this.enforceBound();
    this.gauges();
    this.schedule();
    return save;
  }

  /** Records a change of the call (persisted, then sent in its turn). */
  record(save: CallSave, eventType: number, call: Call): void {
    if (this.closed) return;
    const s = save.stored;
    s.last = call;
    if (call.state === CallState.NONE || eventType === MsgEventType.RING_FINISHED) s.ended = true;
    s.changes.push({ seq: ++this.seq, at: this.now(), eventType, call });
    this.depth += 1;
    this.ready.add(save);
    this.enforceBound();
    this.persist(save);
    this.gauges();
    this.schedule();
  }

  /** Stops sending: waits up to `graceMs` for requests in flight, then aborts them. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const settled = Promise.allSettled([...this.inFlight]);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
    for (const a of this.aborts) a.abort();
    await settled;
  }

  /** Writes again what the store could not take while it was away. */
  flushDirty(): void {
    this.writer.flush((id) => this.calls.get(id)?.stored);
  }

  private persist(save: CallSave): void {
    const s = save.stored;
    if (s.ended && s.changes.length === 0 && !save.inFlight) {
      this.calls.delete(s.id);
      this.ready.delete(save);
      this.gauges();
      this.writer.remove(s.id);
      this.deps.onFinished(save);
      return;
    }
    this.writer.put(s);
  }

  /** Drops the oldest changes (not in flight) while the outbox holds more than maxRecords. */
  private enforceBound(): void {
    while (this.depth > this.deps.limits.maxRecords) {
      let victim: CallSave | undefined;
      let index = 0;
      let oldest: OutboxChange | undefined;
      for (const save of this.ready) {
        const i = save.inFlight ? 1 : 0;
        const c = save.stored.changes[i];
        if (c && (!oldest || c.at < oldest.at || (c.at === oldest.at && c.seq < oldest.seq))) {
          oldest = c;
          victim = save;
          index = i;
        }
      }
      if (!victim || !oldest) return;
      victim.stored.changes.splice(index, 1);
      this.depth -= 1;
      victim.failed = `a change was dropped: the outbox was full (crm.outbox.maxRecords ${this.deps.limits.maxRecords})`;
      this.deps.metrics.update((m) => (m.dropped += 1));
      this.deps.logger.error(
        `CRM outbox full (crm.outbox.maxRecords ${this.deps.limits.maxRecords}): dropped the oldest change, event ${oldest.eventType} of call ${victim.stored.id} on line ${victim.stored.line} recorded at ${new Date(oldest.at).toISOString()}`,
      );
      if (victim.stored.changes.length === 0) this.ready.delete(victim);
      this.persist(victim);
    }
  }

  private gauges(): void {
    const { depth, calls, inFlight } = this.sizes();
    this.deps.metrics.update((m) => {
      m.outboxDepth = depth;
      m.calls = calls;
      m.inFlight = inFlight;
    });
  }

  /** Runs the pump soon (once, however many changes came in this tick). */
  private schedule(): void {
    if (this.pumpQueued || this.closed) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.now();
    let wake = Infinity;
    for (const save of [...this.ready]) {
      if (this.inFlight.size >= this.deps.limits.concurrency) break;
      if (save.inFlight) continue;
      const head = save.stored.changes[0];
      if (!head) {
        this.ready.delete(save);
        continue;
      }
      const target = this.deps.target(save.stored.base);
      if (target.off !== undefined) {
        this.giveUp(save, save.stored.changes.length, `no CRM address: ${target.off}`);
        continue;
      }
      if (now - head.at > this.deps.limits.maxAgeMs) {
        this.giveUp(
          save,
          1,
          `not saved within crm.outbox.maxAgeMs (${this.deps.limits.maxAgeMs} ms)`,
        );
        continue;
      }
      const crm = this.crmState.get(target.base);
      const notBefore = Math.max(save.nextAt, crm?.blockedUntil ?? 0);
      if (notBefore > now) {
        wake = Math.min(wake, notBefore);
        continue;
      }
      this.send(save, target.base, head);
    }
    this.arm(wake);
  }

  private arm(at: number): void {
    if (at === Infinity || this.closed) return;
    if (this.timer && this.wakeAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(0, at - this.now()),
    );
    this.timer.unref();
  }

  private giveUp(save: CallSave, count: number, why: string): void {
    const dropped = save.stored.changes.splice(0, count);
    this.depth -= dropped.length;
    if (save.failed !== why) {
      this.deps.logger.error(
        `CRM: gave up ${dropped.length} change(s) of call ${save.stored.id} on line ${save.stored.line}: ${why}`,
      );
    }
    save.failed = why;
    save.lastError = why;
    this.deps.metrics.update((m) => (m.givenUp += dropped.length));
    if (save.stored.changes.length === 0) this.ready.delete(save);
    this.persist(save);
    this.gauges();
  }

  private send(save: CallSave, base: string, head: OutboxChange): void {
    save.inFlight = true;
    const abort = new AbortController();
    this.aborts.add(abort);
    const body = updateCallBody(save.stored, head);
    let ok = false;
    const run = this.deps
      .updateCall(base, body, abort.signal)
      .then(
        (guid) => {
          ok = true;
          this.saved(save, base, head, guid);
        },
        (err: unknown) => this.failed(save, base, err),
      )
      .finally(() => {
        this.aborts.delete(abort);
        this.inFlight.delete(run);
        save.inFlight = false;
        if (ok) this.persist(save);
        this.gauges();
        this.schedule();
      });
    this.inFlight.add(run);
    this.gauges();
  }

  private saved(save: CallSave, base: string, head: OutboxChange, guid: string): void {
    this.deps.metrics.update((m) => (m.saves.ok += 1));
    const crm = this.crmState.get(base);
    if (crm && crm.failures > 0) {
      this.deps.logger.log(`CRM ${base} takes saves again (${this.depth} change(s) waiting)`);
    }
    this.crmState.delete(base);
    const s = save.stored;
    if (s.changes[0] === head) {
      s.changes.shift();
      this.depth -= 1;
    }
    if (s.changes.length === 0) this.ready.delete(save);
    save.attempts = 0;
    delete save.lastError;
    if (!s.databaseUId) {
      s.databaseUId = guid;
    } else if (s.databaseUId !== guid) {
      this.deps.logger.warn(
        `CRM ${base}: UpdateCall of call ${s.id} answered the record ${guid}, not ${s.databaseUId}; the first one is kept`,
      );
    }
    if (!s.announced) {
      s.announced = true;
      this.deps.onFirstSave(save);
    }
  }

  private failed(save: CallSave, base: string, err: unknown): void {
    this.deps.metrics.update((m) => (m.saves.error += 1));
    const e =
      err instanceof CrmError ? err : new CrmError(CrmErrorCode.Unreachable, String(err), true);
    save.attempts += 1;
    save.lastError = e.message;
    if (this.closed) return;
    if (e.wholeCrm) {
      const crm = this.crmState.get(base) ?? { failures: 0, blockedUntil: 0 };
      crm.failures += 1;
      crm.blockedUntil = this.now() + (this.crmBackoff.delay(crm.failures) ?? 0);
      this.crmState.set(base, crm);
      if (crm.failures === 1) {
        this.deps.logger.warn(
          `CRM ${base} cannot take saves: ${e.message}; ${this.depth} change(s) wait, retrying with backoff`,
        );
      }
      return;
    }
    save.nextAt = this.now() + (this.callBackoff.delay(save.attempts) ?? 0);
    if (save.attempts === 1 || save.attempts % 10 === 0) {
      this.deps.logger.warn(
        `CRM: saving call ${save.stored.id} on line ${save.stored.line} failed (try ${save.attempts}): ${e.message}; retrying`,
      );
    }
  }
}
