/**
 * Owns the transfer commands: blind transfer (BlindTransfer, or Redirect of a parked call), the
 * consultation (Atxfer), joining the parties and cancelling. Holds no state.
 * May not touch the tracker's state: only the CommandKit's queries.
 */
import {
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  type Call,
  type LineSettings,
} from '@app/messaging';
import type { CommandKit } from '../core/command-kit';

export class TransfersCommands {
  constructor(private readonly kit: CommandKit) {}

  async blindTransferCall(
    line: string,
    settings: LineSettings,
    callId: string,
    targetIn: string,
  ): Promise<void> {
    const { c, target, context } = this.kit.ownWithTarget(line, settings, callId, targetIn);
    if (c.state === CallState.HOLDED && c.hold === 'park' && c.parkee) {
      const parkee = this.kit.chanName(c.parkee);
      if (parkee) {
        await this.kit.act({
          Action: 'Redirect',
          Channel: parkee,
          Context: context,
          Exten: target,
          Priority: '1',
        });
        return;
      }
    }
    const mine = this.kit.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !mine || c.primary) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `a ${CallState[c.state]} call cannot be transferred`,
      );
    }
    await this.kit.act({ Action: 'BlindTransfer', Channel: mine, Context: context, Exten: target });
  }

  async makeConsultCall(
    line: string,
    settings: LineSettings,
    callId: string,
    targetIn: string,
  ): Promise<Call> {
    const { c, target, context } = this.kit.ownWithTarget(line, settings, callId, targetIn);
    const mine = this.kit.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !mine || c.primary || (c.consult && !c.consult.ended)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `a consultation needs a connected call (this one is ${CallState[c.state]})`,
      );
    }
    const started = this.kit.waitNotice(
      (n) => (n.kind === 'consult-started' && n.primary === c ? n.consult : undefined),
      'the consultation call',
      c,
    );
    started.catch(() => undefined);
    await this.kit.act({ Action: 'Atxfer', Channel: mine, Context: context, Exten: target });
    return this.kit.tracker.toCall(await started);
  }

  async transferCall(line: string, callId: string, consultCallId: string): Promise<void> {
    const c = this.kit.own(line, callId);
    const consult = this.kit.own(line, consultCallId);
    this.kit.requireReady();
    if (c.consult === consult) {
      // Atxfer: the transferer hanging up joins the held party with the consulted one.
      const mine = this.kit.chanName(c.channel);
      if (!mine)
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidState,
          'the consultation has no channel',
        );
      await this.kit.act({ Action: 'Hangup', Channel: mine, Cause: '16' });
      return;
    }
    const a = this.kit.chanName(c.remote);
    const b = this.kit.chanName(consult.remote);
    if (!a || !b || c === consult) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'both calls need a remote party to be joined',
      );
    }
    await this.kit.act({ Action: 'Bridge', Channel1: a, Channel2: b, Tone: 'no' });
  }

  async cancelTransfer(line: string, callId: string, consultCallId: string): Promise<void> {
    const c = this.kit.own(line, callId);
    const consult = this.kit.own(line, consultCallId);
    this.kit.requireReady();
    const far = this.kit.chanName(consult.remote);
    if (consult === c || !far) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the consultation has no party to drop',
      );
    }
    // Dropping the consulted party returns the line to the held party (Atxfer); a separate
    // consultation call just ends.
    await this.kit.act({ Action: 'Hangup', Channel: far, Cause: '16' });
  }
}
