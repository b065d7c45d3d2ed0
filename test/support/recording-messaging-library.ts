import { Injectable, Module } from '@nestjs/common';
import { BehaviorSubject, EMPTY, type Observable } from 'rxjs';
import {
  CallDirection,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  MessagingLibrary,
  MessagingLibraryProvider,
  callFeaturesFor,
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

/** One command a session received. */
export interface RecordedCommand {
  line: string;
  command: string;
  args: unknown[];
  /** The settings the session was opened with. */
  settings: LineSettings;
}

/**
 * A test double of a messaging library: keeps calls in memory, records every command with the
 * settings of the session it came through, and fails the next command with `failNext` when set.
 * Sessions opened and closed are counted (REST must close what it opens).
 */
@MessagingLibraryProvider({ name: 'recording', aliases: ['Recording.Library'] })
@Injectable()
export class RecordingMessagingLibrary extends MessagingLibrary {
  readonly commands: RecordedCommand[] = [];
  readonly calls = new Map<string, Call>();
  readonly queues = new Map<string, QueueMembership[]>();
  failNext: MessagingCommandError | null = null;
  openSessions = 0;
  private seq = 0;
  private readonly ready$ = new BehaviorSubject<Readiness>({ ready: true });

  get readiness$(): Observable<Readiness> {
    return this.ready$;
  }

  readiness(): Readiness {
    return this.ready$.value;
  }

  setReady(r: Readiness): void {
    this.ready$.next(r);
  }

  override internalSizes(): Record<string, number> {
    return { calls: this.calls.size };
  }

  capabilities(): LibraryCapabilities {
    return {
      answerCall: true,
      hold: true,
      blindTransfer: true,
      consultTransfer: true,
      dtmf: true,
      agentState: true,
      dnd: false,
    };
  }

  /** Adds a call on a line (as if the PBX had one). */
  addCall(line: string, state = CallState.CONNECTED, id = `call-${++this.seq}`): Call {
    const call: Call = {
      id,
      deviceId: line,
      callerId: '79001234567',
      calledId: line,
      direction: CallDirection.IN,
      state,
      oldState: CallState.ALERTING,
      callFeaturesSet: callFeaturesFor(state),
    };
    this.calls.set(id, call);
    return call;
  }

  activeCalls(line: string): Call[] {
    return [...this.calls.values()].filter((c) => c.deviceId === line);
  }

  busyLines(): string[] {
    return [...new Set([...this.calls.values()].map((c) => c.deviceId))].sort();
  }

  findCall(callId: string): { line: string; call: Call } | undefined {
    const call = this.calls.get(callId);
    return call ? { line: call.deviceId, call } : undefined;
  }

  lineStatus(line: string): LineStatus {
    const queues = this.queues.get(line) ?? [];
    return {
      line,
      calls: this.activeCalls(line),
      queues,
      agentState: { code: 'Active', wrapUp: false, paused: queues.some((q) => q.paused) },
    };
  }

  openLine(line: string, settings: LineSettings = {}): LineSession {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const lib = this;
    lib.openSessions++;
    let closed = false;
    let current = { ...settings };
    const run = async <T>(command: string, args: unknown[], act: () => T): Promise<T> => {
      if (closed) throw new MessagingCommandError(MessagingErrorCode.LineClosed, 'closed');
      lib.commands.push({ line, command, args, settings: { ...current } });
      const fail = lib.failNext;
      if (fail) {
        lib.failNext = null;
        throw fail;
      }
      return act();
    };
    const callOf = (id: string): Call => {
      const c = lib.calls.get(id);
      if (!c || c.deviceId !== line)
        throw new MessagingCommandError(MessagingErrorCode.NoSuchCall, `no call ${id}`);
      return c;
    };
    const setState = (c: Call, state: CallState): Call => {
      const next = { ...c, oldState: c.state, state, callFeaturesSet: callFeaturesFor(state) };
      lib.calls.set(c.id, next);
      return next;
    };
    return {
      line,
      events$: EMPTY as Observable<LineEvent>,
      activeCalls: () => lib.activeCalls(line),
      currentCall: () => lib.activeCalls(line)[0] ?? null,
      lineFeatures: () => 0,
      settings: () => ({ ...current }),
      updateSettings: (s) => {
        current = { ...current, ...s };
      },
      makeCall: (target: string, options?: MakeCallOptions) =>
        run('makeCall', [target, options], () => {
          const call: Call = {
            ...lib.addCall(line, CallState.ALERTING),
            direction: CallDirection.OUT,
            callerId: line,
            calledId: target,
          };
          lib.calls.set(call.id, call);
          return call;
        }),
      answerCall: (id) =>
        run('answerCall', [id], () => void setState(callOf(id), CallState.CONNECTED)),
      dropCall: (id) =>
        run('dropCall', [id], () => {
          callOf(id);
          lib.calls.delete(id);
        }),
      holdCall: (id) =>
        run('holdCall', [id], (): HoldResult => {
          const c = callOf(id);
          return c.state === CallState.HOLDED
            ? { call: setState(c, CallState.CONNECTED) }
            : { call: setState(c, CallState.HOLDED), parkingSpace: '701' };
        }),
      blindTransferCall: (id, target) =>
        run('blindTransferCall', [id, target], () => {
          callOf(id);
          lib.calls.delete(id);
        }),
      makeConsultCall: (id, target) =>
        run('makeConsultCall', [id, target], () => {
          setState(callOf(id), CallState.HOLDED);
          const consult = lib.addCall(line, CallState.ALERTING);
          return { ...consult, direction: CallDirection.OUT, calledId: target };
        }),
      transferCall: (id, consultId) =>
        run('transferCall', [id, consultId], () => {
          callOf(id);
          callOf(consultId);
          lib.calls.delete(id);
          lib.calls.delete(consultId);
        }),
      cancelTransfer: (id, consultId) =>
        run('cancelTransfer', [id, consultId], () => {
          setState(callOf(id), CallState.CONNECTED);
          lib.calls.delete(callOf(consultId).id);
        }),
      sendDtmf: (id, digits) => run('sendDtmf', [id, digits], () => void callOf(id)),
      agentState: (): AgentState => lib.lineStatus(line).agentState,
      setAgentState: (code, reason) =>
        run('setAgentState', [code, reason], () => ({ ...lib.lineStatus(line).agentState, code })),
      setWrapUpState: (active) =>
        run('setWrapUpState', [active], () => ({
          ...lib.lineStatus(line).agentState,
          wrapUp: active,
        })),
      setQueuePause: (paused, reason, queue) =>
        run('setQueuePause', [paused, reason, queue], () => {
          const qs = (lib.queues.get(line) ?? []).map((q) =>
            queue === undefined || q.queue === queue
              ? { ...q, paused, ...(reason ? { pausedReason: reason } : {}) }
              : q,
          );
          lib.queues.set(line, qs);
          return qs;
        }),
      close: () => {
        if (!closed) lib.openSessions--;
        closed = true;
      },
    };
  }
}

@Module({ providers: [RecordingMessagingLibrary], exports: [RecordingMessagingLibrary] })
export class RecordingLibraryModule {}
