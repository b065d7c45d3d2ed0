/**
 * The CRM module's counters and gauges, for /metrics (prom-client is wired at merge): saves by
 * result, changes dropped or given up, the outbox's depth, LogInMsgServer answers. Read with
 * `snapshot()`, or follow `changes$` (a snapshot after changes, one per tick at most).
 */
import { BehaviorSubject, type Observable } from 'rxjs';

export interface CrmMetricsSnapshot {
  /** UpdateCall requests by result. */
  saves: { ok: number; error: number };
  /** Changes dropped because the outbox was full (crm.outbox.maxRecords). */
  dropped: number;
  /** Changes given up: older than crm.outbox.maxAgeMs, or no allowed CRM address any more. */
  givenUp: number;
  /** Changes waiting in this node's outbox. */
  outboxDepth: number;
  /** Calls this node is saving (active, or with changes waiting). */
  calls: number;
  /** Requests to the CRM in flight. */
  inFlight: number;
  /** LogInMsgServer by result (cache hits not counted). */
  logins: { allowed: number; refused: number; error: number };
}

export function emptyCrmMetrics(): CrmMetricsSnapshot {
  return {
    saves: { ok: 0, error: 0 },
    dropped: 0,
    givenUp: 0,
    outboxDepth: 0,
    calls: 0,
    inFlight: 0,
    logins: { allowed: 0, refused: 0, error: 0 },
  };
}

export class CrmMetrics {
  private readonly current = emptyCrmMetrics();
  private readonly subject = new BehaviorSubject<CrmMetricsSnapshot>(emptyCrmMetrics());
  private scheduled = false;

  /** A copy of the counters now. */
  snapshot(): CrmMetricsSnapshot {
    return structuredClone(this.current);
  }

  /** The counters after each change (coalesced within one tick). */
  get changes$(): Observable<CrmMetricsSnapshot> {
    return this.subject.asObservable();
  }

  /** Changes the counters; observers hear of it once per tick. */
  update(fn: (m: CrmMetricsSnapshot) => void): void {
    fn(this.current);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.subject.next(this.snapshot());
    });
  }
}
