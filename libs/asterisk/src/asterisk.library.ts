/**
 * Owns the library's lifecycle (start, close, readiness), the line sessions and the MessagingLibrary
 * contract; every command is delegated to its room (calls/, originate/, parking/, transfers/,
 * queues/, resync/ *.commands.ts). May not hold call state: the CallTracker does.
 */
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import { AmiClient, type AmiStatus } from '@app/ami';
import {
  LINE_NAME_PATTERN,
  LINE_NAME_RULE,
  AgentStateStore,
  LineActionGate,
  MemoryAgentStateStore,
  MessagingCommandError,
  MessagingErrorCode,
  MessagingLibrary,
  MessagingLibraryProvider,
  MsgEventType,
  SingleNodeActionGate,
  type AgentState,
  type Call,
  type HoldResult,
  type LibraryCapabilities,
  type LineEvent,
  type LineSession,
  type LineSettings,
  type LineStatus,
  type MakeCallOptions,
  type QueueMembership,
  type Readiness,
} from '@app/messaging';
import { AsteriskLineSession } from './asterisk-line-session';
import { amiLoggerFrom } from './asterisk-logger';
import {
  ASTERISK_LIBRARY_OPTIONS,
  type AsteriskLibraryOptions,
  type AsteriskLogger,
} from './asterisk.module-definition';
import { CallsCommands } from './calls/calls.commands';
import { CallTracker, type TrackedCall, type TrackerNotice } from './call-tracker';
import { canAnswer } from './core/answer-mode';
import { CommandKit } from './core/command-kit';
import { OriginateCommands } from './originate/originate.commands';
import { ParkingCommands } from './parking/parking.commands';
import { QueuesCommands } from './queues/queues.commands';
import { ResyncCommands } from './resync/resync.commands';
import { TransfersCommands } from './transfers/transfers.commands';

export { AsteriskLineSession } from './asterisk-line-session';

/**
 * The Asterisk AMI messaging library: one AMI connection, the call tracker, the line sessions, and
 * the commands as AMI actions (ARCHITECTURE.md, "Asterisk library: mapping rules").
 */
@MessagingLibraryProvider({
  name: 'asterisk',
  aliases: [
    'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2',
    'Terrasoft.Messaging.Asterisk.AsteriskManager, Terrasoft.Messaging.Asterisk',
  ],
})
@Injectable()
export class AsteriskLibrary
  extends MessagingLibrary
  implements OnModuleInit, OnApplicationShutdown
{
  readonly client: AmiClient;
  readonly tracker: CallTracker;
  private readonly log: AsteriskLogger;
  private readonly sessions = new Map<string, Set<AsteriskLineSession>>();
  private readonly readinessSubject: BehaviorSubject<Readiness>;
  private readonly noticeSubject = new Subject<TrackerNotice>();
  /** Every line's events but RAW_DATA, for watchers of the whole PBX (watchAllLines). */
  private readonly allLines = new Subject<LineEvent>();
  private readonly subs: Subscription[] = [];
  private readonly calls: CallsCommands;
  private readonly originate: OriginateCommands;
  private readonly parking: ParkingCommands;
  private readonly transfers: TransfersCommands;
  private readonly queues: QueuesCommands;
  private readonly resyncer: ResyncCommands;
  private debugSessions = 0;
  private started = false;
  /** AnswerCall can make the phone answer (asterisk.answerMode pjsip-notify / sip-notify). */
  private readonly canAnswer: boolean;
  private readonly settleMs: number;
  private readonly settleTimers = new Set<NodeJS.Timeout>();
  readonly readiness$: Observable<Readiness>;

  constructor(
    @Inject(ASTERISK_LIBRARY_OPTIONS) options: AsteriskLibraryOptions,
    // The deployment's (a cluster: the line's lease holder acts, agent states in Redis); alone without.
    @Optional() gate?: LineActionGate,
    @Optional() agents?: AgentStateStore,
  ) {
    super();
    this.log = options.logger ?? new Logger(AsteriskLibrary.name);
    this.client = new AmiClient({
      ...options.ami,
      logger: options.ami.logger ?? amiLoggerFrom(this.log),
    });
    this.canAnswer = options.answer ? canAnswer(options.answer) : false;
    this.settleMs = options.originateSettleMs ?? 1000;
    this.tracker = new CallTracker(
      {
        protocol: options.protocol,
        queueExtensionFormat: options.queueExtensionFormat,
        sendRingStartedOnRingingState: options.sendRingStartedOnRingingState,
        packetInfoConfig: options.packetInfoConfig,
        traceQueuesState: options.traceQueuesState,
        ...(options.lineRules ? { lineRules: options.lineRules } : {}),
        canAnswer: this.canAnswer,
      },
      {
        emit: (e) => this.deliver(e),
        wantsRaw: (line) => this.wantsRaw(line),
        anyRaw: () => this.debugSessions > 0,
        notice: (n) => this.onNotice(n),
      },
    );
    this.readinessSubject = new BehaviorSubject<Readiness>(this.readinessOf(this.client.status));
    this.readiness$ = this.readinessSubject.asObservable();
    const kit = new CommandKit(
      this.client,
      this.tracker,
      options,
      this.log,
      this.noticeSubject,
      this.readiness$,
      (e) => this.deliver(e),
    );
    this.calls = new CallsCommands(kit);
    this.originate = new OriginateCommands(kit);
    this.parking = new ParkingCommands(kit, this.originate);
    this.transfers = new TransfersCommands(kit);
    this.queues = new QueuesCommands(
      kit,
      agents ?? new MemoryAgentStateStore(),
      gate ?? new SingleNodeActionGate(),
    );
    this.resyncer = new ResyncCommands(
      this.client,
      this.tracker,
      this.queues,
      this.log,
      () => this.readinessSubject.next({ ready: true, reason: this.client.status.reason }),
      (reason) => this.readinessSubject.next({ ready: false, reason }),
      {
        minMs: options.resyncRetryMinMs ?? 500,
        maxMs: Math.max(options.resyncRetryMinMs ?? 500, options.resyncRetryMaxMs ?? 10_000),
      },
    );
  }

  /** The agent states by line (read by the review suite as `lib['agents']`). */
  protected get agents(): ReadonlyMap<string, unknown> {
    const store = this.queues.agents;
    return new Map(store.lines().map((line) => [line, store.get(line)]));
  }

  // ---------------------------------------------------------------- lifecycle

  onModuleInit(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Connects to Asterisk (or starts the replay); resyncs on every ready. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.subs.push(
      this.client.events$.subscribe((p) => {
        try {
          this.tracker.handle(p);
        } catch (err) {
          // A packet the tracker cannot take must not stop the stream for everyone else.
          this.log.error(`tracker failed on ${p.event ?? 'a packet'}: ${String(err)}`);
        }
      }),
      this.client.status$.subscribe((s) => this.onStatus(s)),
    );
    this.client.start();
  }

  async close(): Promise<void> {
    this.resyncer.invalidate();
    for (const t of this.settleTimers) clearTimeout(t);
    this.settleTimers.clear();
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    for (const set of this.sessions.values()) for (const s of [...set]) s.close();
    await this.client.close();
    this.tracker.clear();
    this.readinessSubject.next({ ready: false, reason: 'AMI: closed' });
  }

  private onStatus(s: AmiStatus): void {
    if (s.state === 'ready') {
      if (this.client.replaying) {
        this.readinessSubject.next({ ready: true, reason: s.reason });
        return;
      }
      void this.resyncer.resync();
      return;
    }
    this.resyncer.invalidate();
    this.readinessSubject.next(this.readinessOf(s));
  }

  private readinessOf(s: AmiStatus): Readiness {
    if (s.state === 'ready') return { ready: true, reason: s.reason };
    const why = s.reason ?? s.state;
    return {
      ready: false,
      reason: `AMI: ${why.startsWith('AMI') ? why.replace(/^AMI:?\s*/, '') : why}`,
    };
  }

  // ---------------------------------------------------------------- MessagingLibrary

  readiness(): Readiness {
    return this.readinessSubject.value;
  }

  capabilities(): LibraryCapabilities {
    return {
      answerCall: this.canAnswer,
      hold: true,
      blindTransfer: true,
      consultTransfer: true,
      dtmf: true,
      agentState: true,
      dnd: false,
    };
  }

  openLine(line: string, settings: LineSettings = {}): LineSession {
    if (typeof line !== 'string' || !LINE_NAME_PATTERN.test(line)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `line '${String(line).slice(0, 70)}' is not a plain line name (${LINE_NAME_RULE})`,
      );
    }
    const session = new AsteriskLineSession(this, line, { ...settings });
    const key = this.lineKey(line);
    let set = this.sessions.get(key);
    if (!set) this.sessions.set(key, (set = new Set()));
    set.add(session);
    if (settings.debugMode) this.debugSessions += 1;
    return session;
  }

  activeCalls(line: string): Call[] {
    return this.tracker.activeCalls(this.lineKey(line));
  }

  /** A line's key (chan_sip: lower case, others exact): every entry point taking a line uses it. */
  lineKey(line: string): string {
    return this.tracker.lineKey(line);
  }

  busyLines(): string[] {
    return this.tracker.busyLines();
  }

  findCall(callId: string): { line: string; call: Call } | undefined {
    const c = this.tracker.callById(callId);
    if (!c || !c.shown) return undefined;
    return { line: c.line, call: this.tracker.toCall(c) };
  }

  /**
   * The tracker's tables, the line sessions, agent states, early OriginateResponses, running
   * holds and the AMI actions waiting: all back to idle once no call is up and no panel is open
   * (per line, bounded by the lines: queueMembers/queueLines, Asterisk's queue members, and
   * agentLines, the agent states kept).
   */
  override internalSizes(): Record<string, number> {
    let sessions = 0;
    for (const set of this.sessions.values()) sessions += set.size;
    const ami = this.client.pendingActions;
    return {
      ...this.tracker.internalSizes(),
      sessions,
      sessionLines: this.sessions.size,
      ...this.queues.sizes(),
      earlyOriginateResponses: this.originate.earlyResponses,
      holdsRunning: this.parking.running,
      amiPendingActions: ami.pending,
      amiAbandonedActions: ami.abandoned,
    };
  }

  lineStatus(line: string): LineStatus {
    const key = this.lineKey(line);
    return {
      line,
      calls: this.tracker.activeCalls(key),
      queues: this.queueMemberships(key),
      agentState: this.agentState(key),
    };
  }

  // ---------------------------------------------------------------- sessions

  /** @internal */
  sessionClosed(s: AsteriskLineSession, debug: boolean): void {
    const key = this.lineKey(s.line);
    const set = this.sessions.get(key);
    if (set?.delete(s)) {
      if (debug) this.debugSessions -= 1;
      if (set.size === 0) this.sessions.delete(key);
    }
  }

  /** @internal */
  debugChanged(on: boolean): void {
    this.debugSessions += on ? 1 : -1;
  }

  private wantsRaw(line: string): boolean {
    for (const s of this.sessions.get(line) ?? []) if (s.settings().debugMode) return true;
    return false;
  }

  override watchAllLines(): Observable<LineEvent> {
    return this.allLines.asObservable();
  }

  private deliver(e: LineEvent): void {
    const set = this.sessions.get(e.line);
    if (set) for (const s of [...set]) s.push(e);
    if (this.allLines.observed && e.type !== MsgEventType.RAW_DATA) this.allLines.next(e);
  }

  private onNotice(n: TrackerNotice): void {
    if (n.kind === 'settling') this.settleLater(n.call);
    this.queues.onNotice(n);
    if (n.kind === 'originate-response') this.originate.noteResponse(n);
    this.noticeSubject.next(n);
  }

  /** An answered originate whose line dials nothing within originateSettleMs is CONNECTED. */
  private settleLater(call: TrackedCall): void {
    const timer = setTimeout(() => {
      this.settleTimers.delete(timer);
      this.tracker.settleOriginate(call);
    }, this.settleMs);
    timer.unref();
    this.settleTimers.add(timer);
  }

  // ---------------------------------------------------------------- commands (their rooms)

  private queueMemberships(line: string): QueueMembership[] {
    return this.queues.queueMemberships(line);
  }

  agentState(line: string): AgentState {
    return this.queues.agentState(this.lineKey(line));
  }

  setAgentState(line: string, code: string, reason?: string): Promise<AgentState> {
    return this.queues.setAgentState(this.lineKey(line), code, reason);
  }

  setWrapUpState(line: string, active: boolean): Promise<AgentState> {
    return this.queues.setWrapUpState(this.lineKey(line), active);
  }

  setQueuePause(
    line: string,
    paused: boolean,
    reason?: string,
    queue?: string,
  ): Promise<QueueMembership[]> {
    return this.queues.setQueuePause(this.lineKey(line), paused, reason, queue);
  }

  makeCall(
    line: string,
    settings: LineSettings,
    target: string,
    opts: MakeCallOptions = {},
  ): Promise<Call> {
    return this.originate.makeCall(this.lineKey(line), settings, target, opts);
  }

  answerCall(line: string, callId: string): Promise<void> {
    return this.calls.answerCall(this.lineKey(line), callId);
  }

  dropCall(line: string, callId: string): Promise<void> {
    return this.calls.dropCall(this.lineKey(line), callId);
  }

  holdCall(line: string, settings: LineSettings, callId: string): Promise<HoldResult> {
    return this.parking.holdCall(this.lineKey(line), settings, callId);
  }

  blindTransferCall(
    line: string,
    settings: LineSettings,
    callId: string,
    target: string,
  ): Promise<void> {
    return this.transfers.blindTransferCall(this.lineKey(line), settings, callId, target);
  }

  makeConsultCall(
    line: string,
    settings: LineSettings,
    callId: string,
    target: string,
  ): Promise<Call> {
    return this.transfers.makeConsultCall(this.lineKey(line), settings, callId, target);
  }

  transferCall(line: string, callId: string, consultCallId: string): Promise<void> {
    return this.transfers.transferCall(this.lineKey(line), callId, consultCallId);
  }

  cancelTransfer(line: string, callId: string, consultCallId: string): Promise<void> {
    return this.transfers.cancelTransfer(this.lineKey(line), callId, consultCallId);
  }

  sendDtmf(line: string, callId: string, digits: string): Promise<void> {
    return this.calls.sendDtmf(this.lineKey(line), callId, digits);
  }

  lineFeatures(line: string): number {
    return this.calls.lineFeatures(this.lineKey(line));
  }
}
