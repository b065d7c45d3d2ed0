/**
 * Owns the commands on one call as it is: AnswerCall (refused over AMI), DropCall, SendDtmf, and
 * the line's features. Holds no state. May not touch the tracker's state: only the CommandKit's
 * queries.
 */
import { CallFeature, CallState, MessagingCommandError, MessagingErrorCode } from '@app/messaging';
import type { CommandKit } from '../core/command-kit';

const DTMF_RE = /^[0-9*#A-Da-d]{1,64}$/;

export class CallsCommands {
  constructor(private readonly kit: CommandKit) {}

  answerCall(line: string, callId: string): Promise<void> {
    this.kit.own(line, callId);
    return Promise.reject(
      new MessagingCommandError(
        MessagingErrorCode.NotImplemented,
        'AnswerCall is not possible over AMI without phone support: answer on the phone',
      ),
    );
  }

  async dropCall(line: string, callId: string): Promise<void> {
    const c = this.kit.own(line, callId);
    this.kit.requireReady();
    // A consultation shares the line's channel with its primary: drop the consulted party.
    const uid = c.primary ? c.remote : (c.channel ?? c.retrieval ?? c.parkee);
    const name = this.kit.chanName(uid);
    if (!name) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `call '${callId}' has no channel to hang up`,
      );
    }
    await this.kit.act({ Action: 'Hangup', Channel: name, Cause: '16' });
  }

  async sendDtmf(line: string, callId: string, digits: string): Promise<void> {
    const c = this.kit.own(line, callId);
    if (typeof digits !== 'string' || !DTMF_RE.test(digits)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'digits must be 0-9, *, #, A-D',
      );
    }
    this.kit.requireReady();
    const to = this.kit.chanName(c.remote) ?? this.kit.chanName(c.channel);
    if (c.state !== CallState.CONNECTED || !to) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `DTMF needs a connected call (this one is ${CallState[c.state]})`,
      );
    }
    for (const d of digits)
      await this.kit.act({
        Action: 'PlayDTMF',
        Channel: to,
        Digit: d.toUpperCase(),
        Duration: '250',
      });
  }

  lineFeatures(line: string): number {
    return this.kit.tracker.busyLines().includes(line) ? CallFeature.NONE : CallFeature.DIAL;
  }
}
