import { Logger } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import {
  MsgErrorType,
  MsgEventType,
  type Call,
  type LineEvent,
  type LineSession,
  type LineSettings,
  type MessagingLibrary,
} from '@app/messaging';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import type { GatewayObserver } from './gateway-observer';
import type { LineObserver } from './line-observer';
import { events, type ServerEvent } from './protocol/client-protocol';

/** A client bound to a line: receives the line's events. */
export interface LineMember {
  /** Whether RAW_DATA (debug mode) goes to this client. */
  readonly debugMode: boolean;
  deliver(event: ServerEvent): void;
}

/** One line in use: its library session, its owner, and every socket watching it. */
export class LineBinding {
  readonly members = new Set<LineMember>();
  subscription: Subscription | undefined;

  constructor(
    readonly line: string,
    readonly libraryName: string,
    readonly session: LineSession,
    /** The user the line belongs to while it is bound (lower case). */
    readonly owner: string,
  ) {}
}

/** What an OpenConnection told about its user, beside the line (sessionServiceParams). */
export interface LineUserInfo {
  userContactUId?: string;
  serviceUrl?: string;
}

/**
 * Turns a library event into the client event (serialised once for every socket of the line);
 * `decorate` may add what the panel sees beside the library's call (its databaseUId).
 */
export function serverEventOf(
  event: LineEvent,
  decorate: (call: Call) => Call = (c) => c,
): ServerEvent {
  switch (event.type) {
    case MsgEventType.LINE_STATE_CHANGED:
      return events.lineState(event.callFeaturesSet, event.callId);
    case MsgEventType.AGENT_STATE_CHANGED:
      return events.agentState(event.code);
    case MsgEventType.ERROR:
      return events.error(
        event.error.errorType,
        event.error.code,
        event.error.detail ? `${event.error.message}: ${event.error.detail}` : event.error.message,
        event.callId ?? '',
        '',
      );
    case MsgEventType.RAW_DATA:
      return events.rawData(event.data);
    default:
      return events.call(event.type, decorate(event.call));
  }
}

/**
 * Lines in use on this node. One library session per line, shared by every socket of the user
 * who holds it (tabs, reconnects): each event is serialised once and delivered to all of them.
 * Another user claiming a held line is refused (error 2).
 */
export class LineHub {
  private readonly logger = new Logger(LineHub.name);
  private readonly lines = new Map<string, LineBinding>();

  /**
   * `observer` (the CRM module) watches the lines bound here and decorates their calls; `metrics`
   * is told when a line event reached every socket of its line.
   */
  constructor(
    private readonly observer?: LineObserver,
    private readonly metrics?: GatewayObserver,
  ) {
    observer?.attach({
      deliverCall: (line, type, call) => {
        const b = this.lines.get(line);
        if (b) this.fanOut(b, { type, line, call } as LineEvent);
      },
    });
  }

  /** The call as the panels of `line` see it (snapshot, events). */
  decorate(line: string, call: Call): Call {
    if (!this.observer) return call;
    try {
      return this.observer.decorateCall(line, call);
    } catch (err) {
      this.logger.error(
        `line ${line}: decorating call ${call.id} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      return call;
    }
  }

  /** Binds `member` to `line` for `user`; throws GatewayError(LineBusy, type 2) when another user holds it. */
  join(
    library: MessagingLibrary,
    libraryName: string,
    line: string,
    user: string,
    settings: LineSettings,
    member: LineMember,
    info: LineUserInfo = {},
  ): LineBinding {
    const owner = user.trim().toLowerCase();
    let binding = this.lines.get(line);
    // The library sends RAW_DATA only to a session in debug mode: on while any member wants it.
    const debugFor = (b: LineBinding | undefined): boolean =>
      member.debugMode || [...(b?.members ?? [])].some((m) => m.debugMode);
    if (binding) {
      if (binding.owner !== owner) {
        throw new GatewayError(
          GatewayErrorCode.LineBusy,
          MsgErrorType.OPEN_CONNECTION,
          `line ${line} is in use by another user`,
          true,
        );
      }
      if (binding.libraryName !== libraryName) {
        throw new GatewayError(
          GatewayErrorCode.LineBusy,
          MsgErrorType.OPEN_CONNECTION,
          `line ${line} is open with the library '${binding.libraryName}'`,
          true,
        );
      }
      binding.session.updateSettings({ ...settings, debugMode: debugFor(binding) });
    } else {
      const session = library.openLine(line, { ...settings, debugMode: debugFor(undefined) });
      binding = new LineBinding(line, libraryName, session, owner);
      const b = binding;
      this.lines.set(line, b);
      b.subscription = session.events$.subscribe({
        next: (event) => this.fanOut(b, event),
        error: (err: unknown) => {
          this.logger.error(
            `line ${line}: the library's event stream failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        },
      });
      this.logger.debug(`line ${line} opened for a user (library '${libraryName}')`);
      this.notify(() =>
        this.observer?.lineBound({
          line,
          library,
          libraryName,
          userUId: user,
          userContactUId: info.userContactUId,
          serviceUrl: info.serviceUrl,
        }),
      );
    }
    binding.members.add(member);
    return binding;
  }

  /** Unbinds a member; the line's session closes with its last member. */
  leave(binding: LineBinding, member: LineMember): void {
    binding.members.delete(member);
    if (this.lines.get(binding.line) !== binding) return;
    if (binding.members.size > 0) {
      if (member.debugMode && ![...binding.members].some((m) => m.debugMode)) {
        binding.session.updateSettings({ debugMode: false });
      }
      return;
    }
    this.lines.delete(binding.line);
    binding.subscription?.unsubscribe();
    binding.session.close();
    this.logger.debug(`line ${binding.line} released`);
    this.notify(() => this.observer?.lineReleased(binding.line));
  }

  /** Lines bound now, with how many sockets watch each (diagnostics, tests). */
  stats(): { line: string; members: number }[] {
    return [...this.lines.values()].map((b) => ({ line: b.line, members: b.members.size }));
  }

  /** Closes every line session (shutdown). */
  closeAll(): void {
    for (const b of this.lines.values()) {
      b.subscription?.unsubscribe();
      b.session.close();
      this.notify(() => this.observer?.lineReleased(b.line));
    }
    this.lines.clear();
  }

  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error(
        `a line observer failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private fanOut(binding: LineBinding, event: LineEvent): void {
    let ev: ServerEvent;
    try {
      ev = serverEventOf(event, (call) => this.decorate(binding.line, call));
    } catch (err) {
      this.logger.error(
        `line ${binding.line}: cannot serialise a ${event.type} event: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    const raw = event.type === MsgEventType.RAW_DATA;
    for (const m of binding.members) {
      if (raw && !m.debugMode) continue;
      m.deliver(ev);
    }
    this.metrics?.lineEventFannedOut();
  }
}
