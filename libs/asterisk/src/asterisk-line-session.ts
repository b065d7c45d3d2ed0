/**
 * Owns one client's view of a line (a LineSession): its settings, its event stream from opening on,
 * and its commands, each handed to the library. May not touch the tracker or AMI.
 */
import { Subject, type Observable } from 'rxjs';
import {
  MessagingCommandError,
  MessagingErrorCode,
  MsgEventType,
  type AgentState,
  type Call,
  type HoldResult,
  type LineEvent,
  type LineSession,
  type LineSettings,
  type MakeCallOptions,
  type QueueMembership,
} from '@app/messaging';
import type { AsteriskLibrary } from './asterisk.library';

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
