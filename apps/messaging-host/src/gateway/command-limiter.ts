/**
 * Owns the command rate of one client connection: limits.commandsPerSecond for every frame, and
 * limits.originatesPerSecond on top for the commands that make the PBX originate a call (a flood
 * of MakeCall must never become a flood of Originate actions).
 */
import type { LimitsConfig } from '../config/limits.config';
import type { LimitClock } from '../limits/limit-clock';
import { TokenBucket } from '../limits/token-bucket';

/** Client commands that end in an AMI Originate (PROTOCOL.md: MakeCall, MakeConsultCall). */
export const ORIGINATE_COMMANDS: ReadonlySet<string> = new Set(['MakeCall', 'MakeConsultCall']);

/** Which limit a refused command hit. */
export type CommandLimit = 'commandsPerSecond' | 'originatesPerSecond';

export class CommandLimiter {
  private readonly all: TokenBucket | undefined;
  private readonly originates: TokenBucket | undefined;

  constructor(
    private readonly limits: LimitsConfig,
    clock: LimitClock,
  ) {
    this.all =
      limits.commandsPerSecond > 0 ? new TokenBucket(limits.commandsPerSecond, clock) : undefined;
    this.originates =
      limits.originatesPerSecond > 0
        ? new TokenBucket(limits.originatesPerSecond, clock)
        : undefined;
  }

  /** Counts one frame (`command`: its name, '' when it did not parse); the limit it hit, if any. */
  take(command: string): { limit: CommandLimit; message: string } | undefined {
    if (this.all && !this.all.take()) {
      return {
        limit: 'commandsPerSecond',
        message: `too many commands: at most ${this.limits.commandsPerSecond} per second on a connection (limits.commandsPerSecond); ${command || 'the command'} was not run`,
      };
    }
    if (this.originates && ORIGINATE_COMMANDS.has(command) && !this.originates.take()) {
      return {
        limit: 'originatesPerSecond',
        message: `too many calls: at most ${this.limits.originatesPerSecond} ${command} per second on a connection (limits.originatesPerSecond); this one was not made`,
      };
    }
    return undefined;
  }
}
