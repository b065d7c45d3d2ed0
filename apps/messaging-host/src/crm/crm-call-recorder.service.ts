/**
 * Saves every call of the lines this node holds in the CRM (Creatio's UpdateCall), as Creatio's own
 * messaging service does. Owns: which calls are saved here (those that start on a line a panel
 * bound here; one first seen mid-way only if no live node saves it), the calls taken over after a
 * restart, event 15 after a call's first save, and the databaseUId/userContactUId the panels see.
 * The lines' sessions are crm-line-watches.ts's; the sending is the outbox's (outbox/crm-outbox.ts).
 */
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { filter, take, type Subscription } from 'rxjs';
import {
  CallState,
  MessagingRegistry,
  MsgEventType,
  type Call,
  type CallEvent,
  type LineEvent,
  type MessagingLibrary,
} from '@app/messaging';
import { AppConfig } from '../config/app-config';
import { LineOwnership } from '../cluster/line-ownership';
import { LineObserver, type BoundLine, type LineSink } from '../gateway/line-observer';
import { CrmLineWatches, type LineWatch } from './crm-line-watches';
import { CrmMetrics } from './crm-metrics';
import { CrmTargets } from './crm-target';
import { CrmSaveStatusBook, type CrmSaveStatus } from './crm-save-status';
import { MsgUtilServiceClient, isGuid } from './msg-util-service.client';
import { CrmOutbox, type CallSave } from './outbox/crm-outbox';
import { CrmOutboxStore } from './outbox/crm-outbox.store';

const CALL_EVENTS = new Set<number>([
  MsgEventType.RING_STARTED,
  MsgEventType.RING_FINISHED,
  MsgEventType.COMMUTATION_STARTED,
  MsgEventType.PUT_HOLD_ACTION,
  MsgEventType.END_HOLD_ACTION,
  MsgEventType.ABONENT_BUSY,
  MsgEventType.CALL_INFO_CHANGED,
]);

@Injectable()
export class CrmCallRecorder
  extends LineObserver
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('CrmCalls');
  readonly outbox: CrmOutbox;
  private readonly lines: CrmLineWatches;
  /** Calls first seen mid-way, while the store is asked about them: their events meanwhile. */
  private readonly probing = new Map<string, CallEvent[]>();
  readonly book = new CrmSaveStatusBook();
  private readonly warned = new Set<string>();
  private readonly subs = new Set<Subscription>();
  private sink: LineSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: MessagingRegistry,
    private readonly store: CrmOutboxStore,
    client: MsgUtilServiceClient,
    private readonly targets: CrmTargets,
    readonly metrics: CrmMetrics,
    /** In a cluster: the one node whose session holds the line's lease saves its new calls. */
    @Optional() private readonly ownership?: LineOwnership,
  ) {
    super();
    this.lines = new CrmLineWatches((w, e) => this.onEvent(w, e), this.logger);
    const o = config.crm.outbox;
    this.outbox = new CrmOutbox({
      store,
      updateCall: (base, body, signal) => client.updateCall(base, body, signal),
      target: (base) => targets.current(base),
      metrics,
      limits: {
        maxRecords: o.maxRecords,
        maxAgeMs: o.maxAgeMs,
        retryMinDelayMs: o.retryMinDelayMs,
        retryMaxDelayMs: o.retryMaxDelayMs,
        concurrency: config.crm.concurrency,
      },
      onFirstSave: (save) => this.announce(save),
      onFinished: (save) => this.book.finished(save),
      logger: this.logger,
    });
  }

  private get enabled(): boolean {
    return this.config.crm.saveCalls;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) {
      this.logger.log('saving calls in the CRM is off (crm.saveCalls false)');
      return;
    }
    await this.store.open();
    this.started = true;
    await this.takeOver();
    const where =
      this.targets.configured ?? "the panels' ServiceUrl within security.allowedServiceUrls";
    this.logger.log(`calls are saved in the CRM: ${where}`);
    this.timer = setInterval(() => {
      this.outbox.flushDirty();
      void this.takeOver();
    }, this.config.crm.outbox.ownerLeaseMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) s.unsubscribe();
    this.lines.closeAll();
    if (!this.started) return;
    await this.outbox.close(Math.min(1000, this.config.crm.timeoutMs));
    await this.store.close();
  }

  // ------------------------------------------------------------ LineObserver

  attach(sink: LineSink): void {
    this.sink = sink;
  }

  lineBound(b: BoundLine): void {
    if (!this.enabled || this.closed) return;
    const target = this.targets.resolve(b.serviceUrl);
    if (target.off !== undefined) {
      this.warnOnce(b.line, `line ${b.line}: calls are not saved in the CRM: ${target.off}`);
    }
    const contact = b.userContactUId?.trim().toLowerCase();
    if (contact && !isGuid(contact)) {
      this.warnOnce(
        b.line,
        `line ${b.line}: UserContactUId is not a GUID; calls are saved without the operator's contact`,
      );
    }
    const w = this.lines.watch(b.line);
    w.bound = true;
    w.target = target;
    w.contact = contact && isGuid(contact) ? contact : undefined;
    if (target.base === undefined) return;
    this.lines.ensureSession(w, b.library);
    // Calls already going on when the line was bound (a panel that moved here, a restart).
    for (const call of w.session?.activeCalls() ?? []) {
      if (
        !this.outbox.get(call.id) &&
        !this.book.elsewhere(call.id) &&
        !this.probing.has(call.id)
      ) {
        this.probe(w, { type: MsgEventType.CALL_INFO_CHANGED, line: b.line, call }, false);
      }
    }
  }

  lineReleased(line: string): void {
    const w = this.lines.get(line);
    if (!w) return;
    w.bound = false;
    this.lines.release(w);
  }

  decorateCall(_line: string, call: Call): Call {
    const save = this.outbox.get(call.id);
    const databaseUId = save?.stored.databaseUId ?? this.book.elsewhere(call.id)?.databaseUId;
    const contact = save?.stored.contact;
    if (!databaseUId && !contact) return call;
    return {
      ...call,
      ...(databaseUId ? { databaseUId } : {}),
      ...(contact ? { userContactUId: contact } : {}),
    };
  }

  // ------------------------------------------------------------ REST

  /** What this node knows of a call's saving, or undefined. */
  status(callId: string, line?: string): CrmSaveStatus | undefined {
    const save = this.outbox.get(callId);
    if (save) return this.book.statusOf(save);
    const finished = this.book.get(callId);
    if (finished) {
      const { line: _line, call: _call, ...status } = finished;
      return status;
    }
    const elsewhere = this.book.elsewhereStatus(callId);
    if (elsewhere) return elsewhere;
    const w = line ? this.lines.get(line) : undefined;
    if (w?.target.off !== undefined) return { state: 'off', lastError: w.target.off, pending: 0 };
    return undefined;
  }

  // ------------------------------------------------------------ events

  private onEvent(w: LineWatch, e: LineEvent): void {
    if (!CALL_EVENTS.has(e.type) || !('call' in e)) return;
    const event = e as CallEvent;
    const id = event.call.id;
    const queued = this.probing.get(id);
    if (queued) {
      queued.push(event);
      return;
    }
    const save = this.outbox.get(id);
    if (save) return this.record(w, save, event);
    if (this.book.elsewhere(id)) {
      if (event.type === MsgEventType.RING_FINISHED) this.book.forgetElsewhere(id);
      return;
    }
    if (w.target.base === undefined) return;
    if (event.call.oldState === CallState.NONE) {
      // The same user's panel on another node holds the line: that node saves the call; the
      // later events here only look it up (probe) and show its databaseUId.
      if (this.ownership && !this.ownership.isHeldHere(w.line)) return;
      // The call starts here: this node saves it.
      const created = this.outbox.create({
        id,
        line: w.line,
        base: this.targets.configured ? '' : w.target.base,
        ...(w.contact ? { contact: w.contact } : {}),
      });
      return this.record(w, created, event);
    }
    this.probe(w, event, true);
  }

  private record(w: LineWatch, save: CallSave, event: CallEvent): void {
    w.active.add(save.stored.id);
    this.outbox.record(save, event.type, event.call);
    if (save.stored.ended) {
      w.active.delete(save.stored.id);
      this.lines.release(w);
    }
  }

  /**
   * A call first seen mid-way: the store says whether another node saves it (then its databaseUId
   * is shown, nothing is saved here), whether it is ours from before (continued), or unknown
   * (saved from here on). `recordFirst`: the event is a change to save, not just a sighting.
   */
  private probe(w: LineWatch, first: CallEvent, recordFirst: boolean): void {
    const id = first.call.id;
    this.probing.set(id, recordFirst ? [first] : []);
    const done = (found: { call: CallSave | undefined; elsewhere?: string } | undefined): void => {
      const queued = this.probing.get(id) ?? [];
      this.probing.delete(id);
      if (this.closed) return;
      if (found?.elsewhere !== undefined) {
        this.book.markElsewhere(id, found.elsewhere);
        return;
      }
      const save =
        found?.call ??
        this.outbox.create({
          id,
          line: w.line,
          base: this.targets.configured ? '' : (w.target.base ?? ''),
          ...(w.contact ? { contact: w.contact } : {}),
        });
      w.active.add(id);
      for (const e of queued) this.record(w, save, e);
    };
    this.store.inspect(id).then(
      (found) => {
        if (!found) return done(undefined);
        if (!found.mine) return done({ call: undefined, elsewhere: found.call.databaseUId ?? '' });
        done({ call: this.outbox.adopt(found.call) });
      },
      (err: unknown) => {
        this.logger.warn(
          `call ${id}: the outbox store cannot say who saves it (${String(err)}); saving it here`,
        );
        done(undefined);
      },
    );
  }

  /** Calls left by this node's previous run or by nodes that are gone. */
  private async takeOver(): Promise<void> {
    let calls;
    try {
      calls = await this.store.takeOver();
    } catch (err) {
      this.logger.warn(`CRM outbox: taking over calls failed: ${(err as Error).message}`);
      return;
    }
    for (const stored of calls) {
      const save = this.outbox.adopt(stored);
      if (!stored.ended) this.follow(save);
    }
  }

  /**
   * An unfinished call taken over: once the library is ready, watch its line to its end; a call
   * the PBX no longer has ended while nobody watched: its end is recorded now.
   */
  private follow(save: CallSave): void {
    let library: MessagingLibrary;
    try {
      library = this.registry.active();
    } catch {
      return;
    }
    // The readiness replays at once when ready: the subscription may not exist in the callback.
    const held: { sub?: Subscription } = {};
    let fired = false;
    held.sub = library.readiness$
      .pipe(
        filter((r) => r.ready),
        take(1),
      )
      .subscribe(() => {
        fired = true;
        if (held.sub) this.subs.delete(held.sub);
        if (this.closed || save.stored.ended) return;
        const found = library.findCall(save.stored.id);
        if (found) {
          const w = this.lines.watch(save.stored.line);
          this.lines.ensureSession(w, library);
          w.active.add(save.stored.id);
          return;
        }
        const last = save.stored.last;
        if (!last) return;
        const now = new Date().toISOString();
        this.outbox.record(save, MsgEventType.RING_FINISHED, {
          ...last,
          oldState: last.state,
          state: CallState.NONE,
          callFeaturesSet: 0,
          endTime: last.endTime ?? now,
          timeStamp: now,
        });
        this.logger.log(
          `call ${save.stored.id} on line ${save.stored.line} ended while this node was away: its end is saved`,
        );
      });
    if (!fired) this.subs.add(held.sub);
  }

  private announce(save: CallSave): void {
    const s = save.stored;
    this.logger.log(`call ${s.id} on line ${s.line} saved in the CRM as ${s.databaseUId}`);
    if (!s.last || !this.sink) return;
    this.sink.deliverCall(s.line, MsgEventType.CALL_SAVED_IN_DB, this.decorateCall(s.line, s.last));
  }

  private warnOnce(line: string, message: string): void {
    const key = `${line}\n${message}`;
    if (this.warned.has(key)) return;
    if (this.warned.size >= 10_000) this.warned.clear();
    this.warned.add(key);
    this.logger.warn(message);
  }
}
