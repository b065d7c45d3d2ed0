/**
 * Owns what a command may see and the shared steps of every command: readiness, sending an action,
 * turning AMI failures into MessagingCommandError, finding the line's call, validating targets and
 * contexts, waiting for a tracker notice. Holds no state. May not touch the tracker's rooms: only
 * the queries of `CommandTracker`.
 */
import type { Observable } from 'rxjs';
import {
  AmiActionError,
  AmiError,
  AmiErrorCode,
  type AmiActionFields,
  type AmiClient,
  type AmiPacket,
} from '@app/ami';
import {
  MessagingCommandError,
  MessagingErrorCode,
  MsgEventType,
  type Call,
  type LineEvent,
  type LineSettings,
  type Readiness,
} from '@app/messaging';
import type { AsteriskLibraryOptions, AsteriskLogger } from '../asterisk.module-definition';
import type { QueueMemberState } from '../asterisk.types';
import type { PendingOriginate, TrackedCall, TrackerNotice } from './tracker-model';

const TARGET_RE = /^[A-Za-z0-9*#+_.@-]{1,64}$/;

/** What commands may ask of the call tracker (CallTracker satisfies it). */
export interface CommandTracker {
  callById(id: string): TrackedCall | undefined;
  channelName(uid: string | undefined): string | undefined;
  toCall(c: TrackedCall): Call;
  busyLines(): string[];
  hasCalls(line: string): boolean;
  memberships(line: string): QueueMemberState[];
  memberInterface(line: string): string;
  expectOriginate(p: PendingOriginate): void;
  dropOriginate(actionId: string): void;
  unparkPending(callId: string): boolean;
  endCall(call: TrackedCall): void;
}

/** What the library hands every command room. */
export class CommandKit {
  constructor(
    readonly client: AmiClient,
    readonly tracker: CommandTracker,
    readonly options: AsteriskLibraryOptions,
    readonly log: AsteriskLogger,
    /** The tracker's notices, as they come. */
    readonly notices: Observable<TrackerNotice>,
    /** The library's readiness (a drop ends what waits for Asterisk). */
    readonly readiness$: Observable<Readiness>,
    /** Sends a line event to the line's sessions. */
    readonly deliver: (e: LineEvent) => void,
  ) {}

  /** The call `callId` of `line` and a valid target and context (the transfer commands' checks). */
  ownWithTarget(
    line: string,
    settings: LineSettings,
    callId: string,
    targetIn: string,
  ): { c: TrackedCall; target: string; context: string } {
    const c = this.own(line, callId);
    const target = this.target(targetIn);
    const context = this.context(settings);
    this.requireReady();
    return { c, target, context };
  }

  requireReady(): void {
    if (!this.client.isReady) {
      const s = this.client.status;
      throw new MessagingCommandError(
        MessagingErrorCode.NotConnected,
        `not connected to Asterisk (${s.reason ?? s.state})`,
      );
    }
  }

  /** Sends an action; AMI failures become MessagingCommandError. */
  async act(fields: AmiActionFields, timeoutMs?: number): Promise<AmiPacket> {
    try {
      return await this.client.action(fields, timeoutMs ? { timeoutMs } : undefined);
    } catch (err) {
      throw this.commandError(String(fields['Action']), err);
    }
  }

  commandError(action: string, err: unknown): MessagingCommandError {
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
  own(line: string, callId: string): TrackedCall {
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

  target(target: string, what = 'target'): string {
    if (typeof target !== 'string' || !TARGET_RE.test(target.trim())) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `${what} '${String(target).slice(0, 70)}' is not a number or extension (digits, letters, * # + _ . @ -)`,
      );
    }
    return target.trim();
  }

  context(settings: LineSettings, override?: string): string {
    const ctx = override ?? settings.originateContext ?? this.options.originateContext;
    if (!/^[A-Za-z0-9_.-]{1,80}$/.test(ctx)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        `context '${ctx.slice(0, 80)}' is not a dialplan context name`,
      );
    }
    return ctx;
  }

  chanName(uid: string | undefined): string | undefined {
    return this.tracker.channelName(uid);
  }

  /** The first notice `pick` takes; rejected when `gone` ends before it, or after commandTimeoutMs. */
  waitNotice<T>(
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
      const sub = this.notices.subscribe((n) => {
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

  lineError(line: string, error: MessagingCommandError, callId?: string): void {
    this.deliver({ type: MsgEventType.ERROR, line, error, ...(callId ? { callId } : {}) });
  }
}
