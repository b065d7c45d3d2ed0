/**
 * Owns the queue pause commands: SetMsgUserState, SetWrapUpUserState, setQueuePause, the pause on
 * a connected call (autoPauseOnCommutationStart) and the re-pause after a resync, and what it
 * writes to the agent states (code, reason, wrap-up, auto-pause) in the AgentStateStore it is
 * given (a cluster's Redis, or this process). Automatic pauses run only where the LineActionGate
 * says this node acts on the line (one node in a cluster); commands run where they are received.
 * May not touch the tracker's state: only the CommandKit's queries.
 */
import type { AmiActionFields } from '@app/ami';
import {
  MessagingCommandError,
  MessagingErrorCode,
  MsgEventType,
  type AgentState,
  type AgentStateStore,
  type LineActionGate,
  type QueueMembership,
  type SharedAgentState,
} from '@app/messaging';
import type { CommandKit } from '../core/command-kit';
import type { TrackerNotice } from '../core/tracker-model';

/** Agent state codes that mean "ready for queue calls"; any other code pauses the line. */
const READY_CODES = new Set(['active', 'ready', 'available', 'online']);

/** Whether an agent state means no queue calls (a not-ready code or wrap-up). */
function wantsPause(a: Readonly<SharedAgentState>): boolean {
  return a.wrapUp || !READY_CODES.has(a.code.toLowerCase());
}

/** The agent state of a line nobody set one for. */
const NO_AGENT: Readonly<SharedAgentState> = { code: 'Active', wrapUp: false, autoPaused: false };

export class QueuesCommands {
  /** Automatic pause effects of a line waiting for the gate: they run in order, one at a time. */
  private readonly acting = new Map<string, Promise<void>>();

  constructor(
    private readonly kit: CommandKit,
    /** Where the agent states live (shared by the nodes of a cluster). */
    readonly agents: AgentStateStore,
    /** Whether this node does a line's automatic pauses (the one node of a cluster that may). */
    private readonly gate: LineActionGate,
  ) {}

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

  /** The line's agent state without keeping an entry for a line that never had one. */
  private agentOf(line: string): SharedAgentState {
    return this.agents.get(line) ?? { ...NO_AGENT };
  }

  /** Writes a change of the line's agent state (the store's copy is current at once). */
  private write(line: string, change: Partial<SharedAgentState>): SharedAgentState {
    const next: SharedAgentState = { ...this.agentOf(line), ...change };
    if (!next.reason) delete next.reason;
    this.agents.set(line, next).catch((err: unknown) => {
      this.kit.log.warn(`line ${line}: the agent state could not be stored: ${String(err)}`);
    });
    return next;
  }

  /**
   * Runs `effect` when this node is the one that acts on the line (gate), after the line's earlier
   * effects: the gate answers asynchronously, and a call that connects and ends before it did
   * would otherwise see its unpause checked before its pause was recorded (the line left paused).
   */
  private whenActing(line: string, what: string, effect: () => void): void {
    const run = (this.acting.get(line) ?? Promise.resolve())
      .then(() => this.gate.mayAct(line))
      .then((ok) => {
        if (ok) effect();
      })
      .catch((err: unknown) => this.kit.log.warn(`${what} of line ${line}: ${String(err)}`));
    this.acting.set(line, run);
    void run.then(() => {
      if (this.acting.get(line) === run) this.acting.delete(line);
    });
  }

  /** Lines whose automatic pause effects wait for the gate (memory checks: 0 when idle). */
  get pendingEffects(): number {
    return this.acting.size;
  }

  /**
   * What this room keeps, for memory checks: `agents`, lines whose agent state is not the default
   * (Active, not paused; 0 when idle); `agentLines`, entries the store keeps (default ones too, one
   * per line ever auto-paused: bounded by lines); `agentEffectsWaiting`, as pendingEffects.
   */
  sizes(): { agents: number; agentLines: number; agentEffectsWaiting: number } {
    const lines = this.agents.lines();
    const agents = lines.filter((l) => {
      const a = this.agents.get(l);
      return a !== undefined && (a.code !== 'Active' || !!a.reason || a.wrapUp || a.autoPaused);
    }).length;
    return { agents, agentLines: lines.length, agentEffectsWaiting: this.acting.size };
  }

  /** Whether the agent chose not to take queue calls (a not-ready state or wrap-up). */
  private agentWantsPause(line: string): boolean {
    return wantsPause(this.agentOf(line));
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
    this.whenActing(line, 'auto pause', () => {
      if (this.agentOf(line).autoPaused || !this.kit.client.isReady) return;
      this.write(line, { autoPaused: true });
      this.kit.client
        .action(this.queuePauseFields(line, true, 'autoPauseOnCommutationStart'))
        .catch((err: unknown) =>
          this.kit.log.warn(`auto pause of line ${line} failed: ${String(err)}`),
        );
    });
  }

  private autoUnpause(line: string): void {
    // Nothing to undo, unless a pause still waits for the gate (it runs first, see whenActing).
    if (!this.agents.get(line)?.autoPaused && !this.acting.has(line)) return;
    this.whenActing(line, 'auto unpause', () => {
      if (!this.agents.get(line)?.autoPaused) return;
      this.write(line, { autoPaused: false });
      // An agent who chose a not-ready state (Away, wrap-up) stays paused, whoever paused it.
      if (this.agentWantsPause(line) || !this.kit.client.isReady) return;
      this.kit.client
        .action(this.queuePauseFields(line, false))
        .catch((err: unknown) =>
          this.kit.log.warn(`auto unpause of line ${line} failed: ${String(err)}`),
        );
    });
  }

  /**
   * After a resync: lines paused by us that have no call left are unpaused; an agent who chose a
   * not-ready state is paused again where Asterisk lost it (e.g. after a restart).
   */
  reconcilePauses(): void {
    for (const line of this.agents.lines()) {
      const a = this.agentOf(line);
      if (
        this.kit.options.autoPauseOnCommutationStart &&
        a.autoPaused &&
        !this.kit.tracker.hasCalls(line)
      ) {
        this.autoUnpause(line);
      }
      const members = this.kit.tracker.memberships(line);
      if (this.agentWantsPause(line) && members.some((m) => !m.paused)) {
        this.whenActing(line, 're-pause', () => {
          this.kit.client
            .action(this.queuePauseFields(line, true, a.wrapUp ? 'WrapUp' : a.reason || a.code))
            .catch((err: unknown) =>
              this.kit.log.warn(`re-pausing line ${line} failed: ${String(err)}`),
            );
        });
      }
    }
  }

  /**
   * The agent state (SetMsgUserState): the queue pause it means is sent first; the state is
   * written only once Asterisk took it (a refused or unsendable pause leaves the old state).
   */
  async setAgentState(line: string, code: string, reason?: string): Promise<AgentState> {
    if (typeof code !== 'string' || !/^[A-Za-z0-9_ -]{1,64}$/.test(code)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'agent state code must be a word (letters, digits, _ - space)',
      );
    }
    const change = { code, reason: reason || undefined };
    await this.applyAgentPause(line, { ...this.agentOf(line), ...change }, reason || code);
    this.write(line, change);
    this.kit.deliver({ type: MsgEventType.AGENT_STATE_CHANGED, line, code });
    return this.agentState(line);
  }

  /** Wrap-up (SetWrapUpUserState): written once Asterisk took the pause it means, as setAgentState. */
  async setWrapUpState(line: string, active: boolean): Promise<AgentState> {
    const current = this.agentOf(line);
    await this.applyAgentPause(
      line,
      { ...current, wrapUp: active },
      active ? 'WrapUp' : current.reason || current.code,
    );
    this.write(line, { wrapUp: active });
    return this.agentState(line);
  }

  /** Sends the queue pause `agent` (the state about to be written) means; none outside queues. */
  private async applyAgentPause(
    line: string,
    agent: SharedAgentState,
    reason: string,
  ): Promise<void> {
    if (this.kit.tracker.memberships(line).length === 0) return; // not a queue member: nothing to pause
    this.kit.requireReady();
    const paused = wantsPause(agent) || agent.autoPaused;
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
