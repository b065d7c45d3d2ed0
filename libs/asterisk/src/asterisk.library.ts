import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import {
  AmiActionError,
  AmiClient,
  AmiError,
  AmiErrorCode,
  type AmiActionFields,
  type AmiLogger,
  type AmiPacket,
  type AmiStatus,
} from '@app/ami';
import {
  CallDirection,
  CallFeature,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  MessagingLibrary,
  MessagingLibraryProvider,
  MsgEventType,
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
import {
  ASTERISK_LIBRARY_OPTIONS,
  type AsteriskLibraryOptions,
  type AsteriskLogger,
} from './asterisk.module-definition';
import { CallTracker, type TrackedCall, type TrackerNotice } from './call-tracker';

/** Agent state codes that mean "ready for queue calls"; any other code pauses the line. */
const READY_CODES = new Set(['active', 'ready', 'available', 'online']);
const LINE_RE = /^[A-Za-z0-9_.+-]{1,64}$/;
const TARGET_RE = /^[A-Za-z0-9*#+_.@-]{1,64}$/;
const DTMF_RE = /^[0-9*#A-Da-d]{1,64}$/;
/** OriginateResponse Reason codes (Asterisk's AST_CONTROL_*). */
const ORIGINATE_REASONS: Record<string, string> = {
  '0': 'the call could not be set up (no such number, or the line is unreachable)',
  '1': 'hung up before answering',
  '3': 'not answered',
  '5': 'busy',
  '8': 'congestion',
};

interface LineAgent {
  code: string;
  reason?: string;
  wrapUp: boolean;
  /** We paused the line because a call connected (autoPauseOnCommutationStart). */
  autoPaused: boolean;
}

/** The agent state of a line nobody set one for. */
const NO_AGENT: Readonly<LineAgent> = { code: 'Active', wrapUp: false, autoPaused: false };

/** Bridges the library's logger to the AMI client's pino-style logger. */
function amiLoggerFrom(log: AsteriskLogger): AmiLogger {
  const fmt = (obj: object, msg?: string): string => {
    const extra = Object.keys(obj).length ? ` ${JSON.stringify(obj)}` : '';
    return `${msg ?? ''}${extra}`;
  };
  return {
    debug: (o, m) => log.debug(fmt(o, m)),
    info: (o, m) => log.log(fmt(o, m)),
    warn: (o, m) => log.warn(fmt(o, m)),
    error: (o, m) => log.error(fmt(o, m)),
  };
}

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
  private readonly agents = new Map<string, LineAgent>();
  private readonly readinessSubject: BehaviorSubject<Readiness>;
  private readonly noticeSubject = new Subject<TrackerNotice>();
  /** OriginateResponses by ActionID that arrived before their action's answer was handled. */
  private readonly originateResponses = new Map<string, AmiPacket>();
  private readonly subs: Subscription[] = [];
  /** HoldCall toggles running now, by call. */
  private readonly holding = new Map<TrackedCall, Promise<HoldResult>>();
  private debugSessions = 0;
  private resyncRun = 0;
  private started = false;
  readonly readiness$: Observable<Readiness>;

  constructor(@Inject(ASTERISK_LIBRARY_OPTIONS) private readonly options: AsteriskLibraryOptions) {
    super();
    this.log = options.logger ?? new Logger(AsteriskLibrary.name);
    this.client = new AmiClient({
      ...options.ami,
      logger: options.ami.logger ?? amiLoggerFrom(this.log),
    });
    this.tracker = new CallTracker(
      {
        protocol: options.protocol,
        queueExtensionFormat: options.queueExtensionFormat,
        sendRingStartedOnRingingState: options.sendRingStartedOnRingingState,
        packetInfoConfig: options.packetInfoConfig,
        traceQueuesState: options.traceQueuesState,
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
      void this.resync();
      return;
    }
    this.resyncRun += 1;
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

  /** Rebuilds the calls from CoreShowChannels, ParkedCalls and QueueStatus, then reports ready. */
  private async resync(): Promise<void> {
    const run = ++this.resyncRun;
    this.tracker.beginResync();
    try {
      const [channels, parked, queues] = await Promise.all([
        this.client.list({ Action: 'CoreShowChannels' }),
        this.client.list({ Action: 'ParkedCalls' }),
        this.client.list({ Action: 'QueueStatus' }).catch((err: unknown) => {
          this.log.warn(`QueueStatus failed during resync: ${String(err)}`);
          return undefined;
        }),
      ]);
      if (run !== this.resyncRun) return;
      this.tracker.applyResync(channels.items, parked.items, queues?.items);
      this.log.log(
        `resynced: ${channels.items.length} channel(s), ${parked.items.length} parked call(s)`,
      );
      this.reconcilePauses();
    } catch (err) {
      if (run !== this.resyncRun) return;
      this.tracker.abortResync();
      this.log.warn(`resync failed (calls kept as they were): ${String(err)}`);
    }
    if (run === this.resyncRun && this.client.isReady) {
      this.readinessSubject.next({ ready: true, reason: this.client.status.reason });
    }
  }

  // ---------------------------------------------------------------- MessagingLibrary

  readiness(): Readiness {
    return this.readinessSubject.value;
  }

  capabilities(): LibraryCapabilities {
    return {
      answerCall: false,
      hold: true,
      blindTransfer: true,
      consultTransfer: true,
      dtmf: true,
      agentState: true,
      dnd: false,
    };
  }

  openLine(line: string, settings: LineSettings = {}): LineSession {
    if (typeof line !== 'string' || !LINE_RE.test(line)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `line '${String(line).slice(0, 70)}' is not a valid extension (letters, digits, _ . + -)`,
      );
    }
    const session = new AsteriskLineSession(this, line, { ...settings });
    let set = this.sessions.get(line);
    if (!set) this.sessions.set(line, (set = new Set()));
    set.add(session);
    if (settings.debugMode) this.debugSessions += 1;
    return session;
  }

  activeCalls(line: string): Call[] {
    return this.tracker.activeCalls(line);
  }

  busyLines(): string[] {
    return this.tracker.busyLines();
  }

  findCall(callId: string): { line: string; call: Call } | undefined {
    const c = this.tracker.callById(callId);
    if (!c || !c.shown) return undefined;
    return { line: c.line, call: this.tracker.toCall(c) };
  }

  lineStatus(line: string): LineStatus {
    return {
      line,
      calls: this.tracker.activeCalls(line),
      queues: this.queueMemberships(line),
      agentState: this.agentState(line),
    };
  }

  // ---------------------------------------------------------------- sessions

  /** @internal */
  sessionClosed(s: AsteriskLineSession, debug: boolean): void {
    const set = this.sessions.get(s.line);
    if (set?.delete(s)) {
      if (debug) this.debugSessions -= 1;
      if (set.size === 0) this.sessions.delete(s.line);
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

  private deliver(e: LineEvent): void {
    const set = this.sessions.get(e.line);
    if (!set) return;
    for (const s of [...set]) s.push(e);
  }

  private onNotice(n: TrackerNotice): void {
    switch (n.kind) {
      case 'connected':
        if (this.options.autoPauseOnCommutationStart) this.autoPause(n.call.line);
        break;
      case 'line-idle':
        if (this.options.autoPauseOnCommutationStart) this.autoUnpause(n.line);
        break;
      case 'originate-response':
        this.originateResponses.set(n.actionId, n.packet as AmiPacket);
        if (this.originateResponses.size > 200) {
          this.originateResponses.delete(this.originateResponses.keys().next().value!);
        }
        break;
      case 'queue-member':
        if (this.options.traceQueuesState) {
          const m = n.member;
          this.log.log(
            `queue member ${m.iface} (line ${m.line}) in ${m.queue}: ${n.event} status=${m.status} paused=${m.paused ? 1 : 0}${m.reason ? ` reason=${m.reason}` : ''} inCall=${m.inCall ? 1 : 0}`,
          );
        }
        break;
      default:
        break;
    }
    this.noticeSubject.next(n);
  }

  // ---------------------------------------------------------------- queue pause

  private queueMemberships(line: string): QueueMembership[] {
    return this.tracker.memberships(line).map((m) => ({
      queue: m.queue,
      memberInterface: m.iface,
      paused: m.paused,
      ...(m.reason ? { pausedReason: m.reason } : {}),
      status: m.status,
      inCall: m.inCall,
    }));
  }

  private agent(line: string): LineAgent {
    let a = this.agents.get(line);
    if (!a) this.agents.set(line, (a = { code: 'Active', wrapUp: false, autoPaused: false }));
    return a;
  }

  /** The line's agent state without keeping an entry for a line that never had one. */
  private agentOf(line: string): Readonly<LineAgent> {
    return this.agents.get(line) ?? NO_AGENT;
  }

  /** Whether the agent chose not to take queue calls (a not-ready state or wrap-up). */
  private agentWantsPause(line: string): boolean {
    const a = this.agentOf(line);
    return a.wrapUp || !READY_CODES.has(a.code.toLowerCase());
  }

  agentState(line: string): AgentState {
    const a = this.agentOf(line);
    const members = this.tracker.memberships(line);
    return {
      code: a.code,
      ...(a.reason ? { reason: a.reason } : {}),
      wrapUp: a.wrapUp,
      paused: members.length > 0 ? members.every((m) => m.paused) : this.agentWantsPause(line),
    };
  }

  private queuePauseFields(
    line: string,
    paused: boolean,
    reason?: string,
    queue?: string,
  ): AmiActionFields {
    const fields: AmiActionFields = {
      Action: 'QueuePause',
      Interface: this.tracker.memberInterface(line),
      Paused: paused ? 'true' : 'false',
    };
    if (queue) fields['Queue'] = queue;
    if (reason) fields['Reason'] = reason;
    return fields;
  }

  private autoPause(line: string): void {
    if (!this.client.isReady || this.tracker.memberships(line).length === 0) return;
    const a = this.agent(line);
    if (a.autoPaused) return;
    a.autoPaused = true;
    this.client
      .action(this.queuePauseFields(line, true, 'autoPauseOnCommutationStart'))
      .catch((err: unknown) => this.log.warn(`auto pause of line ${line} failed: ${String(err)}`));
  }

  private autoUnpause(line: string): void {
    const a = this.agents.get(line);
    if (!a?.autoPaused) return;
    a.autoPaused = false;
    if (this.agentWantsPause(line) || !this.client.isReady) return;
    this.client
      .action(this.queuePauseFields(line, false))
      .catch((err: unknown) =>
        this.log.warn(`auto unpause of line ${line} failed: ${String(err)}`),
      );
  }

  /**
   * After a resync: lines paused by us that have no call left are unpaused; an agent who chose a
   * not-ready state is paused again where Asterisk lost it (e.g. after a restart).
   */
  private reconcilePauses(): void {
    for (const [line, a] of this.agents) {
      if (
        this.options.autoPauseOnCommutationStart &&
        a.autoPaused &&
        !this.tracker.hasCalls(line)
      ) {
        this.autoUnpause(line);
      }
      const members = this.tracker.memberships(line);
      if (this.agentWantsPause(line) && members.some((m) => !m.paused)) {
        this.client
          .action(this.queuePauseFields(line, true, a.wrapUp ? 'WrapUp' : a.reason || a.code))
          .catch((err: unknown) => this.log.warn(`re-pausing line ${line} failed: ${String(err)}`));
      }
    }
  }

  async setAgentState(line: string, code: string, reason?: string): Promise<AgentState> {
    if (typeof code !== 'string' || !/^[A-Za-z0-9_ -]{1,64}$/.test(code)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'agent state code must be a word (letters, digits, _ - space)',
      );
    }
    const a = this.agent(line);
    a.code = code;
    a.reason = reason || undefined;
    await this.applyAgentPause(line, reason || code);
    this.deliver({ type: MsgEventType.AGENT_STATE_CHANGED, line, code });
    return this.agentState(line);
  }

  async setWrapUpState(line: string, active: boolean): Promise<AgentState> {
    const a = this.agent(line);
    a.wrapUp = active;
    await this.applyAgentPause(line, active ? 'WrapUp' : a.reason || a.code);
    return this.agentState(line);
  }

  private async applyAgentPause(line: string, reason: string): Promise<void> {
    if (this.tracker.memberships(line).length === 0) return; // not a queue member: nothing to pause
    this.requireReady();
    const a = this.agent(line);
    const paused = this.agentWantsPause(line) || a.autoPaused;
    await this.act(this.queuePauseFields(line, paused, paused ? reason : undefined));
  }

  async setQueuePause(
    line: string,
    paused: boolean,
    reason?: string,
    queue?: string,
  ): Promise<QueueMembership[]> {
    this.requireReady();
    if (queue !== undefined && !/^[A-Za-z0-9_.@-]{1,80}$/.test(queue)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'queue name has characters a queue name cannot have',
      );
    }
    if (reason !== undefined && /[\r\n]/.test(reason)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'reason must be one line',
      );
    }
    await this.act(this.queuePauseFields(line, paused, reason, queue));
    return this.queueMemberships(line);
  }

  // ---------------------------------------------------------------- commands

  private requireReady(): void {
    if (!this.client.isReady) {
      const s = this.client.status;
      throw new MessagingCommandError(
        MessagingErrorCode.NotConnected,
        `not connected to Asterisk (${s.reason ?? s.state})`,
      );
    }
  }

  /** Sends an action; AMI failures become MessagingCommandError. */
  private async act(fields: AmiActionFields, timeoutMs?: number): Promise<AmiPacket> {
    try {
      return await this.client.action(fields, timeoutMs ? { timeoutMs } : undefined);
    } catch (err) {
      throw this.commandError(String(fields['Action']), err);
    }
  }

  private commandError(action: string, err: unknown): MessagingCommandError {
    if (err instanceof MessagingCommandError) return err;
    if (err instanceof AmiActionError) {
      return new MessagingCommandError(
        MessagingErrorCode.ActionFailed,
        `Asterisk refused ${action}: ${err.serverMessage || 'error'}`,
        err.serverMessage,
        { cause: err },
      );
    }
    if (
      err instanceof AmiError &&
      (err.code === AmiErrorCode.ConnectionClosed || err.code === AmiErrorCode.Closed)
    ) {
      return new MessagingCommandError(
        MessagingErrorCode.NotConnected,
        `not connected to Asterisk: ${err.message}`,
        undefined,
        { cause: err },
      );
    }
    return new MessagingCommandError(
      MessagingErrorCode.ActionFailed,
      `${action} failed: ${err instanceof Error ? err.message : String(err)}`,
      undefined,
      { cause: err },
    );
  }

  /** The call `callId` of `line`, or the typed error. */
  private own(line: string, callId: string): TrackedCall {
    const c = typeof callId === 'string' ? this.tracker.callById(callId) : undefined;
    if (!c || c.ended || !c.shown) {
      throw new MessagingCommandError(
        MessagingErrorCode.NoSuchCall,
        `no active call '${String(callId).slice(0, 80)}'`,
      );
    }
    if (c.line !== line) {
      throw new MessagingCommandError(
        MessagingErrorCode.WrongLine,
        `call '${callId}' is not on line ${line}`,
      );
    }
    return c;
  }

  private target(target: string, what = 'target'): string {
    if (typeof target !== 'string' || !TARGET_RE.test(target.trim())) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `${what} '${String(target).slice(0, 70)}' is not a number or extension (digits, letters, * # + _ . @ -)`,
      );
    }
    return target.trim();
  }

  private context(settings: LineSettings, override?: string): string {
    const ctx = override ?? settings.originateContext ?? this.options.originateContext;
    if (!/^[A-Za-z0-9_.-]{1,80}$/.test(ctx)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `context '${ctx.slice(0, 80)}' is not a dialplan context name`,
      );
    }
    return ctx;
  }

  private chanName(uid: string | undefined): string | undefined {
    return this.tracker.channelName(uid);
  }

  /** The first notice `pick` takes; rejected when `gone` ends before it, or after commandTimeoutMs. */
  private waitNotice<T>(
    pick: (n: TrackerNotice) => T | undefined,
    what: string,
    gone?: TrackedCall,
  ): Promise<T> {
    const ms = this.options.commandTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(
          new MessagingCommandError(
            MessagingErrorCode.ActionFailed,
            `Asterisk did not report ${what} within ${ms} ms`,
          ),
        );
      }, ms);
      const sub = this.noticeSubject.subscribe((n) => {
        if (gone && n.kind === 'ended' && n.call === gone) {
          clearTimeout(timer);
          sub.unsubscribe();
          reject(
            new MessagingCommandError(
              MessagingErrorCode.NoSuchCall,
              `the call ended before Asterisk reported ${what}`,
            ),
          );
          return;
        }
        const v = pick(n);
        if (v !== undefined) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(v);
        }
      });
    });
  }

  private lineError(line: string, error: MessagingCommandError, callId?: string): void {
    this.deliver({ type: MsgEventType.ERROR, line, error, ...(callId ? { callId } : {}) });
  }

  /** An Originate of the line's device: resolves with the action's answer; the outcome comes later. */
  private async sendOriginate(fields: AmiActionFields): Promise<AmiPacket> {
    const ring = this.options.originateTimeoutMs ?? 30_000;
    const sync = String(fields['Async']) !== 'true';
    return this.act(fields, sync ? ring + (this.options.ami.actionTimeoutMs ?? 10_000) : undefined);
  }

  /**
   * The OriginateResponse of an Originate (by ActionID); undefined when none can come any more: the
   * connection dropped, or the ring time and the command timeout passed.
   */
  private originateOutcome(actionId: string | undefined): Promise<AmiPacket | undefined> {
    const early = actionId ? this.originateResponses.get(actionId) : undefined;
    if (early) return Promise.resolve(early);
    return new Promise<AmiPacket | undefined>((resolve) => {
      const subs: Subscription[] = [];
      let finished = false;
      const done = (p: AmiPacket | undefined): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const x of subs) x.unsubscribe();
        resolve(p);
      };
      const timer = setTimeout(
        () => done(undefined),
        (this.options.originateTimeoutMs ?? 30_000) + (this.options.commandTimeoutMs ?? 10_000),
      );
      subs.push(
        this.noticeSubject.subscribe((n) => {
          if (n.kind === 'originate-response' && n.actionId === actionId) {
            done(n.packet as AmiPacket);
          }
        }),
      );
      subs.push(
        this.readiness$.subscribe((r) => {
          if (!r.ready) done(undefined);
        }),
      );
      // A subscription added after done() ran (synchronously) must not stay.
      if (finished) for (const x of subs) x.unsubscribe();
    });
  }

  private failureOf(p: AmiPacket, target: string): MessagingCommandError {
    const reason = p.get('Reason') ?? '0';
    return new MessagingCommandError(
      MessagingErrorCode.OriginateFailed,
      `call to ${target} failed: ${ORIGINATE_REASONS[reason] ?? `reason ${reason}`}`,
      `Reason ${reason}`,
    );
  }

  async makeCall(
    line: string,
    settings: LineSettings,
    targetIn: string,
    opts: MakeCallOptions = {},
  ): Promise<Call> {
    const target = this.target(targetIn);
    const context = this.context(settings, opts.context);
    if (opts.callerId !== undefined && /[\r\n]/.test(opts.callerId)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'callerId must be one line',
      );
    }
    const vars: string[] = [];
    for (const [k, v] of Object.entries(opts.variables ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || /[\r\n]/.test(String(v))) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidArgument,
          `variable '${k.slice(0, 64)}' is not NAME=one-line value`,
        );
      }
      vars.push(`${k}=${String(v)}`);
    }
    this.requireReady();
    if (this.client.replaying) {
      throw new MessagingCommandError(
        MessagingErrorCode.NotImplemented,
        'replay mode (asterisk.filePath): actions are logged, not sent; no call can be made',
      );
    }
    const token = `makecall-${randomUUID()}`;
    // The call as it showed (RING_STARTED): what MakeCall answers, even if it moved on since.
    let shownAs: Call | undefined;
    let bound: ((c: TrackedCall) => void) | undefined;
    const boundCall = new Promise<TrackedCall>((resolve) => (bound = resolve));
    this.tracker.expectOriginate({
      actionId: token,
      line,
      kind: 'call',
      target,
      bound: (c) => {
        shownAs = this.tracker.toCall(c);
        bound!(c);
      },
    });
    const fields: AmiActionFields = {
      Action: 'Originate',
      Channel: `${this.options.protocol}${line}`,
      Context: context,
      Exten: target,
      Priority: '1',
      CallerID: opts.callerId ?? `"${target}" <${target}>`,
      Timeout: String(this.options.originateTimeoutMs ?? 30_000),
      Async: this.options.asyncOriginate ? 'true' : 'false',
    };
    if (vars.length) fields['Variable'] = vars;
    const failed = (why: MessagingCommandError): MessagingCommandError =>
      why.code === MessagingErrorCode.ActionFailed
        ? new MessagingCommandError(
            MessagingErrorCode.OriginateFailed,
            `call to ${target} failed: ${why.detail ?? why.message}`,
            why.detail,
            { cause: why },
          )
        : why;
    /** After Asterisk said the call is up: the call must have shown by now, or soon. */
    const shownSoon = async (): Promise<TrackedCall> => {
      const ms = this.options.commandTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.tracker.dropOriginate(token);
          reject(
            new MessagingCommandError(
              MessagingErrorCode.ActionFailed,
              `Asterisk accepted the call to ${target} but no channel of line ${line} rang within ${ms} ms`,
            ),
          );
        }, ms);
      });
      try {
        return await Promise.race([boundCall, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    const sent = this.sendOriginate(fields);
    if (!this.options.asyncOriginate) {
      // Synchronous: Asterisk answers once the phone answered (or failed); the call shows before.
      const first = await Promise.race([
        boundCall.then((c) => ({ c })),
        sent.then(
          () => ({ ok: true as const }),
          (e: unknown) => ({ e }),
        ),
      ]);
      if ('e' in first) {
        this.tracker.dropOriginate(token);
        throw failed(this.commandError('Originate', first.e));
      }
      const call = 'c' in first ? first.c : await shownSoon();
      sent.catch((err: unknown) => {
        this.lineError(line, failed(this.commandError('Originate', err)), call.id);
        this.tracker.endCall(call);
      });
      return shownAs ?? this.tracker.toCall(call);
    }
    let response: AmiPacket;
    try {
      response = await sent;
    } catch (err) {
      this.tracker.dropOriginate(token);
      throw this.commandError('Originate', err);
    }
    const outcome = this.originateOutcome(response.actionId);
    const first = await Promise.race([
      boundCall.then((c) => ({ c })),
      outcome.then((p) => ({ p })),
    ]);
    if ('p' in first && first.p === undefined) {
      this.tracker.dropOriginate(token);
      throw this.client.isReady
        ? new MessagingCommandError(
            MessagingErrorCode.ActionFailed,
            `Asterisk did not report the outcome of the call to ${target}`,
          )
        : new MessagingCommandError(
            MessagingErrorCode.NotConnected,
            `the connection to Asterisk was lost while calling ${target}`,
          );
    }
    if ('p' in first && first.p && first.p.get('Response') !== 'Success') {
      this.tracker.dropOriginate(token);
      throw this.failureOf(first.p, target);
    }
    const call = 'c' in first ? first.c : await shownSoon();
    void outcome.then((p) => {
      if (p && p.get('Response') !== 'Success')
        this.lineError(line, this.failureOf(p, target), call.id);
    });
    return shownAs ?? this.tracker.toCall(call);
  }

  answerCall(line: string, callId: string): Promise<void> {
    this.own(line, callId);
    return Promise.reject(
      new MessagingCommandError(
        MessagingErrorCode.NotImplemented,
        'AnswerCall is not possible over AMI without phone support: answer on the phone',
      ),
    );
  }

  async dropCall(line: string, callId: string): Promise<void> {
    const c = this.own(line, callId);
    this.requireReady();
    // A consultation shares the line's channel with its primary: drop the consulted party.
    const uid = c.primary ? c.remote : (c.channel ?? c.retrieval ?? c.parkee);
    const name = this.chanName(uid);
    if (!name) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `call '${callId}' has no channel to hang up`,
      );
    }
    await this.act({ Action: 'Hangup', Channel: name, Cause: '16' });
  }

  async holdCall(line: string, settings: LineSettings, callId: string): Promise<HoldResult> {
    const c = this.own(line, callId);
    // A second toggle while one runs (a double click) gets the same answer, not a second action.
    const running = this.holding.get(c);
    if (running) return running;
    const run = this.toggleHold(line, settings, c);
    this.holding.set(c, run);
    try {
      return await run;
    } finally {
      if (this.holding.get(c) === run) this.holding.delete(c);
    }
  }

  private async toggleHold(
    line: string,
    settings: LineSettings,
    c: TrackedCall,
  ): Promise<HoldResult> {
    this.requireReady();
    if (c.consult && !c.consult.ended) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the call is the primary of a consultation: use TransferCall or CancelTransfer',
      );
    }
    if (c.state === CallState.CONNECTED) {
      const remote = this.chanName(c.remote);
      const mine = this.chanName(c.channel);
      if (!remote || !mine || c.primary) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidState,
          'the call has no remote party to park',
        );
      }
      const parked = this.waitNotice(
        (n) => (n.kind === 'parked' && n.call === c ? n.space : undefined),
        'the parked call',
        c,
      );
      parked.catch(() => undefined);
      await this.act({ Action: 'Park', Channel: remote, TimeoutChannel: mine });
      const space = await parked;
      return { call: this.tracker.toCall(c), parkingSpace: space };
    }
    if (c.state === CallState.HOLDED && c.hold === 'park' && c.parkingSpace) {
      if (c.retrieval || this.tracker.unparkPending(c.id))
        return { call: this.tracker.toCall(c), parkingSpace: c.parkingSpace };
      const space = c.parkingSpace;
      const ctx = settings.parkingLotContext ?? this.options.parkingLotContext;
      if (!/^[A-Za-z0-9_.-]{1,80}$/.test(ctx)) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidArgument,
          `parkingLotContext '${ctx.slice(0, 80)}' is not a dialplan context name`,
        );
      }
      const token = `unpark-${randomUUID()}`;
      this.tracker.expectOriginate({
        actionId: token,
        line,
        kind: 'unpark',
        target: space,
        callId: c.id,
      });
      const who = c.direction === CallDirection.IN ? c.callerId : c.calledId;
      const fields: AmiActionFields = {
        Action: 'Originate',
        Channel: `${this.options.protocol}${line}`,
        Context: ctx,
        Exten: space,
        Priority: '1',
        CallerID: `"${(who || 'Parked').replace(/"/g, '')}" <${space}>`,
        Timeout: String(this.options.originateTimeoutMs ?? 30_000),
        Async: this.options.asyncOriginate ? 'true' : 'false',
      };
      if (!this.options.asyncOriginate) {
        // Synchronous: Asterisk answers once the phone answered; a failure comes as an event.
        this.sendOriginate(fields).catch((err: unknown) => {
          this.tracker.dropOriginate(token);
          const e = this.commandError('Originate', err);
          this.lineError(
            line,
            new MessagingCommandError(MessagingErrorCode.OriginateFailed, e.message, e.detail),
            c.id,
          );
        });
        return { call: this.tracker.toCall(c), parkingSpace: space };
      }
      let response: AmiPacket;
      try {
        response = await this.sendOriginate(fields);
      } catch (err) {
        this.tracker.dropOriginate(token);
        throw this.commandError('Originate', err);
      }
      void this.originateOutcome(response.actionId).then((p) => {
        if (p && p.get('Response') === 'Success') return;
        // Failed, or no outcome will come: the line's next ring is not this take-back.
        this.tracker.dropOriginate(token);
        if (p && !c.ended) this.lineError(line, this.failureOf(p, `parking space ${space}`), c.id);
      });
      return { call: this.tracker.toCall(c), parkingSpace: space };
    }
    if (c.state === CallState.HOLDED) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the call is held on the phone: take it back on the phone',
      );
    }
    throw new MessagingCommandError(
      MessagingErrorCode.InvalidState,
      `a ${CallState[c.state]} call cannot be held`,
    );
  }

  async blindTransferCall(
    line: string,
    settings: LineSettings,
    callId: string,
    targetIn: string,
  ): Promise<void> {
    const c = this.own(line, callId);
    const target = this.target(targetIn);
    const context = this.context(settings);
    this.requireReady();
    if (c.state === CallState.HOLDED && c.hold === 'park' && c.parkee) {
      const parkee = this.chanName(c.parkee);
      if (parkee) {
        await this.act({
          Action: 'Redirect',
          Channel: parkee,
          Context: context,
          Exten: target,
          Priority: '1',
        });
        return;
      }
    }
    const mine = this.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !mine || c.primary) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `a ${CallState[c.state]} call cannot be transferred`,
      );
    }
    await this.act({ Action: 'BlindTransfer', Channel: mine, Context: context, Exten: target });
  }

  async makeConsultCall(
    line: string,
    settings: LineSettings,
    callId: string,
    targetIn: string,
  ): Promise<Call> {
    const c = this.own(line, callId);
    const target = this.target(targetIn);
    const context = this.context(settings);
    this.requireReady();
    const mine = this.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !mine || c.primary || (c.consult && !c.consult.ended)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `a consultation needs a connected call (this one is ${CallState[c.state]})`,
      );
    }
    const started = this.waitNotice(
      (n) => (n.kind === 'consult-started' && n.primary === c ? n.consult : undefined),
      'the consultation call',
      c,
    );
    started.catch(() => undefined);
    await this.act({ Action: 'Atxfer', Channel: mine, Context: context, Exten: target });
    return this.tracker.toCall(await started);
  }

  async transferCall(line: string, callId: string, consultCallId: string): Promise<void> {
    const c = this.own(line, callId);
    const consult = this.own(line, consultCallId);
    this.requireReady();
    if (c.consult === consult) {
      // Atxfer: the transferer hanging up joins the held party with the consulted one.
      const mine = this.chanName(c.channel);
      if (!mine)
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidState,
          'the consultation has no channel',
        );
      await this.act({ Action: 'Hangup', Channel: mine, Cause: '16' });
      return;
    }
    const a = this.chanName(c.remote);
    const b = this.chanName(consult.remote);
    if (!a || !b || c === consult) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'both calls need a remote party to be joined',
      );
    }
    await this.act({ Action: 'Bridge', Channel1: a, Channel2: b, Tone: 'no' });
  }

  async cancelTransfer(line: string, callId: string, consultCallId: string): Promise<void> {
    const c = this.own(line, callId);
    const consult = this.own(line, consultCallId);
    this.requireReady();
    const far = this.chanName(consult.remote);
    if (consult === c || !far) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the consultation has no party to drop',
      );
    }
    // Dropping the consulted party returns the line to the held party (Atxfer); a separate
    // consultation call just ends.
    await this.act({ Action: 'Hangup', Channel: far, Cause: '16' });
  }

  async sendDtmf(line: string, callId: string, digits: string): Promise<void> {
    const c = this.own(line, callId);
    if (typeof digits !== 'string' || !DTMF_RE.test(digits)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'digits must be 0-9, *, #, A-D',
      );
    }
    this.requireReady();
    const to = this.chanName(c.remote) ?? this.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !to) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `DTMF needs a connected call (this one is ${CallState[c.state]})`,
      );
    }
    for (const d of digits)
      await this.act({ Action: 'PlayDTMF', Channel: to, Digit: d.toUpperCase(), Duration: '250' });
  }

  lineFeatures(line: string): number {
    return this.tracker.busyLines().includes(line) ? CallFeature.NONE : CallFeature.DIAL;
  }
}

/** One client's view of a line (PROTOCOL.md session): events from opening on, and its commands. */
export class AsteriskLineSession implements LineSession {
  private readonly subject = new Subject<LineEvent>();
  readonly events$: Observable<LineEvent>;
  private closed = false;

  constructor(
    private readonly lib: AsteriskLibrary,
    readonly line: string,
    private current: LineSettings,
  ) {
    this.events$ = this.subject.asObservable();
  }

  /** @internal */
  push(e: LineEvent): void {
    if (e.type === MsgEventType.RAW_DATA && !this.current.debugMode) return;
    this.subject.next(e);
  }

  private open(): void {
    if (this.closed)
      throw new MessagingCommandError(
        MessagingErrorCode.LineClosed,
        `the session of line ${this.line} is closed`,
      );
  }

  activeCalls(): Call[] {
    return this.lib.activeCalls(this.line);
  }

  currentCall(): Call | null {
    const c = this.lib.tracker.currentCall(this.line);
    return c ? this.lib.tracker.toCall(c) : null;
  }

  lineFeatures(): number {
    return this.lib.lineFeatures(this.line);
  }

  settings(): LineSettings {
    return { ...this.current };
  }

  updateSettings(settings: Partial<LineSettings>): void {
    const wasDebug = Boolean(this.current.debugMode);
    this.current = { ...this.current, ...settings };
    const isDebug = Boolean(this.current.debugMode);
    if (!this.closed && wasDebug !== isDebug) this.lib.debugChanged(isDebug);
  }

  makeCall(target: string, options?: MakeCallOptions): Promise<Call> {
    return this.run(() => this.lib.makeCall(this.line, this.current, target, options));
  }

  answerCall(callId: string): Promise<void> {
    return this.run(() => this.lib.answerCall(this.line, callId));
  }

  dropCall(callId: string): Promise<void> {
    return this.run(() => this.lib.dropCall(this.line, callId));
  }

  holdCall(callId: string): Promise<HoldResult> {
    return this.run(() => this.lib.holdCall(this.line, this.current, callId));
  }

  blindTransferCall(callId: string, target: string): Promise<void> {
    return this.run(() => this.lib.blindTransferCall(this.line, this.current, callId, target));
  }

  makeConsultCall(callId: string, target: string): Promise<Call> {
    return this.run(() => this.lib.makeConsultCall(this.line, this.current, callId, target));
  }

  transferCall(callId: string, consultCallId: string): Promise<void> {
    return this.run(() => this.lib.transferCall(this.line, callId, consultCallId));
  }

  cancelTransfer(callId: string, consultCallId: string): Promise<void> {
    return this.run(() => this.lib.cancelTransfer(this.line, callId, consultCallId));
  }

  sendDtmf(callId: string, digits: string): Promise<void> {
    return this.run(() => this.lib.sendDtmf(this.line, callId, digits));
  }

  agentState(): AgentState {
    return this.lib.agentState(this.line);
  }

  setAgentState(code: string, reason?: string): Promise<AgentState> {
    return this.run(() => this.lib.setAgentState(this.line, code, reason));
  }

  setWrapUpState(active: boolean): Promise<AgentState> {
    return this.run(() => this.lib.setWrapUpState(this.line, active));
  }

  setQueuePause(paused: boolean, reason?: string, queue?: string): Promise<QueueMembership[]> {
    return this.run(() => this.lib.setQueuePause(this.line, paused, reason, queue));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.sessionClosed(this, Boolean(this.current.debugMode));
    this.subject.complete();
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    this.open();
    return fn();
  }
}
