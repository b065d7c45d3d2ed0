import { Injectable } from '@nestjs/common';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import {
  CallDirection,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  MessagingLibrary,
  MessagingLibraryProvider,
  MsgEventType,
  callFeaturesFor,
  eventTypeForTransition,
  type AgentState,
  type Call,
  type HoldResult,
  type LibraryCapabilities,
  type LineEvent,
  type LineSession,
  type LineSettings,
  type LineStatus,
  type QueueMembership,
  type Readiness,
} from '@app/messaging';

/** A command a fake session received. */
export interface FakeCommand {
  line: string;
  name: string;
  args: unknown[];
}

/** The assembly name a panel loads the fake library by. */
export const FAKE_ASSEMBLY = 'Terrasoft.Messaging.Fake.Connector, Terrasoft.Messaging.Fake';

/**
 * A small in-memory messaging library for the gateway's unit tests: lines with calls that the
 * test moves through states (`ring`, `connect`, `hold`, `end`), every command recorded.
 */
@MessagingLibraryProvider({
  name: 'fake',
  aliases: [FAKE_ASSEMBLY],
})
@Injectable()
export class FakeMessagingLibrary extends MessagingLibrary {
  readonly readiness$ = new BehaviorSubject<Readiness>({ ready: true });
  readonly commands: FakeCommand[] = [];
  readonly opened: { line: string; settings: LineSettings | undefined }[] = [];
  private readonly calls = new Map<string, Call>();
  private readonly streams = new Map<string, Subject<LineEvent>>();
  private readonly all = new Subject<LineEvent>();
  /** Whether watchAllLines() streams (false: the library cannot, as a library without it). */
  allLines = true;
  private seq = 0;
  caps: LibraryCapabilities = {
    answerCall: false,
    hold: true,
    blindTransfer: true,
    consultTransfer: true,
    dtmf: true,
    agentState: true,
    dnd: false,
  };

  readiness(): Readiness {
    return this.readiness$.value;
  }
  capabilities(): LibraryCapabilities {
    return this.caps;
  }

  openLine(line: string, settings?: LineSettings): LineSession {
    if (!/^[A-Za-z0-9_-]+$/.test(line)) {
      throw new MessagingCommandError(MessagingErrorCode.InvalidArgument, `bad line '${line}'`);
    }
    this.opened.push({ line, settings });
    return new FakeLineSession(this, line, settings ?? {});
  }

  activeCalls(line: string): Call[] {
    return [...this.calls.values()].filter((c) => c.deviceId === line);
  }
  busyLines(): string[] {
    return [...new Set([...this.calls.values()].map((c) => c.deviceId))];
  }
  findCall(callId: string): { line: string; call: Call } | undefined {
    const call = this.calls.get(callId);
    return call ? { line: call.deviceId, call } : undefined;
  }
  lineStatus(line: string): LineStatus {
    return { line, calls: this.activeCalls(line), queues: [], agentState: this.agent };
  }
  override watchAllLines(): Observable<LineEvent> | undefined {
    return this.allLines ? this.all.asObservable() : undefined;
  }

  agent: AgentState = { code: 'Active', wrapUp: false, paused: false };

  stream(line: string): Subject<LineEvent> {
    let s = this.streams.get(line);
    if (!s) {
      s = new Subject<LineEvent>();
      this.streams.set(line, s);
    }
    return s;
  }

  emit(event: LineEvent): void {
    this.stream(event.line).next(event);
    if (event.type !== MsgEventType.RAW_DATA) this.all.next(event);
  }

  /** A new call on `line` in ALERTING (event 5). */
  ring(line: string, direction = CallDirection.IN, other = '79161234567'): Call {
    const id = `call-${++this.seq}`;
    const call: Call = {
      id,
      deviceId: line,
      callerId: direction === CallDirection.IN ? other : line,
      calledId: direction === CallDirection.IN ? line : other,
      direction,
      state: CallState.NONE,
      oldState: CallState.NONE,
      callFeaturesSet: 0,
      startTime: new Date().toISOString(),
    };
    this.calls.set(id, call);
    return this.move(id, CallState.ALERTING);
  }

  /** Moves a call to `state`, emitting the event of the transition (and 11 with DIAL at the end). */
  move(id: string, state: CallState): Call {
    const old = this.calls.get(id);
    if (!old) throw new Error(`no call ${id}`);
    const call: Call = {
      ...old,
      oldState: old.state,
      state,
      callFeaturesSet: callFeaturesFor(state),
      timeStamp: new Date().toISOString(),
      ...(state === CallState.NONE ? { endTime: new Date().toISOString() } : {}),
    };
    if (state === CallState.NONE) this.calls.delete(id);
    else this.calls.set(id, call);
    const type = eventTypeForTransition(state, old.state);
    if (type !== undefined) this.emit({ type, line: call.deviceId, call } as LineEvent);
    if (state === CallState.NONE && this.activeCalls(call.deviceId).length === 0) {
      this.emit({
        type: MsgEventType.LINE_STATE_CHANGED,
        line: call.deviceId,
        callFeaturesSet: 2,
      });
    }
    return call;
  }

  record(line: string, name: string, ...args: unknown[]): void {
    this.commands.push({ line, name, args });
  }

  callOn(line: string, id: string): Call {
    const call = this.calls.get(id);
    if (!call)
      throw new MessagingCommandError(MessagingErrorCode.NoSuchCall, `no active call ${id}`);
    if (call.deviceId !== line) {
      throw new MessagingCommandError(
        MessagingErrorCode.WrongLine,
        `call ${id} is not on line ${line}`,
      );
    }
    return call;
  }
}

class FakeLineSession implements LineSession {
  readonly events$: Observable<LineEvent>;
  private closed = false;

  constructor(
    private readonly lib: FakeMessagingLibrary,
    readonly line: string,
    private current: LineSettings,
  ) {
    this.events$ = lib.stream(line).asObservable();
  }

  activeCalls(): Call[] {
    return this.lib.activeCalls(this.line);
  }
  currentCall(): Call | null {
    return this.activeCalls()[0] ?? null;
  }
  lineFeatures(): number {
    return this.activeCalls().length ? 0 : 2;
  }
  settings(): LineSettings {
    return this.current;
  }
  updateSettings(settings: Partial<LineSettings>): void {
    this.current = { ...this.current, ...settings };
  }
  private check(): void {
    if (this.closed) throw new MessagingCommandError(MessagingErrorCode.LineClosed, 'closed');
  }
  async makeCall(target: string): Promise<Call> {
    this.check();
    this.lib.record(this.line, 'makeCall', target);
    return this.lib.ring(this.line, CallDirection.OUT, target);
  }
  async answerCall(callId: string): Promise<void> {
    this.lib.record(this.line, 'answerCall', callId);
    this.lib.callOn(this.line, callId);
  }
  async dropCall(callId: string): Promise<void> {
    this.lib.record(this.line, 'dropCall', callId);
    this.lib.callOn(this.line, callId);
    this.lib.move(callId, CallState.NONE);
  }
  async holdCall(callId: string): Promise<HoldResult> {
    this.lib.record(this.line, 'holdCall', callId);
    const call = this.lib.callOn(this.line, callId);
    const next = call.state === CallState.HOLDED ? CallState.CONNECTED : CallState.HOLDED;
    return { call: this.lib.move(callId, next) };
  }
  async blindTransferCall(callId: string, target: string): Promise<void> {
    this.lib.record(this.line, 'blindTransferCall', callId, target);
    this.lib.callOn(this.line, callId);
  }
  async makeConsultCall(callId: string, target: string): Promise<Call> {
    this.lib.record(this.line, 'makeConsultCall', callId, target);
    this.lib.callOn(this.line, callId);
    return this.lib.ring(this.line, CallDirection.OUT, target);
  }
  async transferCall(callId: string, consultCallId: string): Promise<void> {
    this.lib.record(this.line, 'transferCall', callId, consultCallId);
  }
  async cancelTransfer(callId: string, consultCallId: string): Promise<void> {
    this.lib.record(this.line, 'cancelTransfer', callId, consultCallId);
  }
  async sendDtmf(callId: string, digits: string): Promise<void> {
    this.lib.record(this.line, 'sendDtmf', callId, digits);
    this.lib.callOn(this.line, callId);
  }
  agentState(): AgentState {
    return this.lib.agent;
  }
  async setAgentState(code: string, reason?: string): Promise<AgentState> {
    this.lib.record(this.line, 'setAgentState', code, reason);
    this.lib.agent = { ...this.lib.agent, code, reason };
    return this.lib.agent;
  }
  async setWrapUpState(active: boolean): Promise<AgentState> {
    this.lib.record(this.line, 'setWrapUpState', active);
    this.lib.agent = { ...this.lib.agent, wrapUp: active, code: active ? 'WrapUp' : 'Active' };
    return this.lib.agent;
  }
  async setQueuePause(): Promise<QueueMembership[]> {
    return [];
  }
  close(): void {
    this.closed = true;
    this.lib.record(this.line, 'close');
  }
}
