/**
 * Owns the agent state of each line (`agents`: code, reason, wrap-up, auto-pause; written only
 * here) and the queue pause commands: SetMsgUserState, SetWrapUpUserState, setQueuePause, the
 * pause on a connected call (autoPauseOnCommutationStart) and the re-pause after a resync.
 * May not touch the tracker's state: only the CommandKit's queries.
 */
import type { AmiActionFields } from '@app/ami';
import {
  MessagingCommandError,
  MessagingErrorCode,
  MsgEventType,
  type AgentState,
  type QueueMembership,
} from '@app/messaging';
import type { CommandKit } from '../core/command-kit';
import type { TrackerNotice } from '../core/tracker-model';

/** Agent state codes that mean "ready for queue calls"; any other code pauses the line. */
const READY_CODES = new Set(['active', 'ready', 'available', 'online']);

interface LineAgent {
  code: string;
  reason?: string;
  wrapUp: boolean;
  /** We paused the line because a call connected (autoPauseOnCommutationStart). */
  autoPaused: boolean;
}

/** The agent state of a line nobody set one for. */
const NO_AGENT: Readonly<LineAgent> = { code: 'Active', wrapUp: false, autoPaused: false };

export class QueuesCommands {
  readonly agents = new Map<string, LineAgent>();

  constructor(private readonly kit: CommandKit) {}

  /** A call connected or a line went idle (auto pause), a queue member changed (its trace). */
  onNotice(n: TrackerNotice): void {
    switch (n.kind) {
      case 'connected':
        if (this.kit.options.autoPauseOnCommutationStart) this.autoPause(n.call.line);
        break;
      case 'line-idle':
        if (this.kit.options.autoPauseOnCommutationStart) this.autoUnpause(n.line);
        break;
      case 'queue-member':
        if (this.kit.options.traceQueuesState) {
          const m = n.member;
          this.kit.log.log(
            `queue member ${m.iface} (line ${m.line}) in ${m.queue}: ${n.event} status=${m.status} paused=${m.paused ? 1 : 0}${m.reason ? ` reason=${m.reason}` : ''} inCall=${m.inCall ? 1 : 0}`,
          );
        }
        break;
      default:
        break;
    }
  }

  queueMemberships(line: string): QueueMembership[] {
    return this.kit.tracker.memberships(line).map((m) => ({
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
    const members = this.kit.tracker.memberships(line);
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
      Interface: this.kit.tracker.memberInterface(line),
      Paused: paused ? 'true' : 'false',
    };
    if (queue) fields['Queue'] = queue;
    if (reason) fields['Reason'] = reason;
    return fields;
  }

  private autoPause(line: string): void {
    if (!this.kit.client.isReady || this.kit.tracker.memberships(line).length === 0) return;
    const a = this.agent(line);
    if (a.autoPaused) return;
    a.autoPaused = true;
    this.kit.client
      .action(this.queuePauseFields(line, true, 'autoPauseOnCommutationStart'))
      .catch((err: unknown) =>
        this.kit.log.warn(`auto pause of line ${line} failed: ${String(err)}`),
      );
  }

  private autoUnpause(line: string): void {
    const a = this.agents.get(line);
    if (!a?.autoPaused) return;
    a.autoPaused = false;
    // Back to the state of a line nobody set one for: no entry kept (one per line ever called).
    if (a.code === NO_AGENT.code && !a.reason && !a.wrapUp) this.agents.delete(line);
    if (this.agentWantsPause(line) || !this.kit.client.isReady) return;
    this.kit.client
      .action(this.queuePauseFields(line, false))
      .catch((err: unknown) =>
        this.kit.log.warn(`auto unpause of line ${line} failed: ${String(err)}`),
      );
  }

  /**
   * After a resync: lines paused by us that have no call left are unpaused; an agent who chose a
   * not-ready state is paused again where Asterisk lost it (e.g. after a restart).
   */
  reconcilePauses(): void {
    for (const [line, a] of this.agents) {
      if (
        this.kit.options.autoPauseOnCommutationStart &&
        a.autoPaused &&
        !this.kit.tracker.hasCalls(line)
      ) {
        this.autoUnpause(line);
      }
      const members = this.kit.tracker.memberships(line);
      if (this.agentWantsPause(line) && members.some((m) => !m.paused)) {
        this.kit.client
          .action(this.queuePauseFields(line, true, a.wrapUp ? 'WrapUp' : a.reason || a.code))
          .catch((err: unknown) =>
            this.kit.log.warn(`re-pausing line ${line} failed: ${String(err)}`),
          );
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
    this.kit.deliver({ type: MsgEventType.AGENT_STATE_CHANGED, line, code });
    return this.agentState(line);
  }

  async setWrapUpState(line: string, active: boolean): Promise<AgentState> {
    const a = this.agent(line);
    a.wrapUp = active;
    await this.applyAgentPause(line, active ? 'WrapUp' : a.reason || a.code);
    return this.agentState(line);
  }

  private async applyAgentPause(line: string, reason: string): Promise<void> {
    if (this.kit.tracker.memberships(line).length === 0) return; // not a queue member: nothing to pause
    this.kit.requireReady();
    const a = this.agent(line);
    const paused = this.agentWantsPause(line) || a.autoPaused;
    await this.kit.act(this.queuePauseFields(line, paused, paused ? reason : undefined));
  }

  async setQueuePause(
    line: string,
    paused: boolean,
    reason?: string,
    queue?: string,
  ): Promise<QueueMembership[]> {
    this.kit.requireReady();
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
    await this.kit.act(this.queuePauseFields(line, paused, reason, queue));
    return this.queueMemberships(line);
  }
}
