/**
 * Owns the commands on one call as it is: AnswerCall (the NOTIFY of asterisk.answerMode, refused
 * without one), DropCall, SendDtmf, and the line's features. Holds no state. May not touch the
 * tracker's state: only the CommandKit's queries.
 */
import {
  CallDirection,
  CallFeature,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
} from '@app/messaging';
import { answerAction } from '../core/answer-mode';
import type { CommandKit } from '../core/command-kit';

const DTMF_RE = /^[0-9*#A-Da-d]{1,64}$/;

export class CallsCommands {
  constructor(private readonly kit: CommandKit) {}

  /**
   * Makes the line's phone answer its ringing incoming call: AMI PJSIPNotify / SIPnotify with
   * `Event: talk` (asterisk.answerMode). The call connects when the phone answers (its events).
   */
  async answerCall(line: string, callId: string): Promise<void> {
    const c = this.kit.own(line, callId);
    const answer = this.kit.options.answer;
    const fields = answer ? answerAction(answer, line) : undefined;
    if (!fields) {
      throw new MessagingCommandError(
        MessagingErrorCode.NotImplemented,
        answer?.mode === 'header'
          ? 'AnswerCall: asterisk.answerMode header only makes click-to-call answer by itself; answer incoming calls on the phone (or use pjsip-notify / sip-notify)'
          : 'AnswerCall needs asterisk.answerMode (pjsip-notify or sip-notify) and a phone that answers on NOTIFY Event: talk: answer on the phone',
      );
    }
    if (c.state !== CallState.ALERTING || c.direction !== CallDirection.IN) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `only a ringing incoming call can be answered (this one is ${c.direction === CallDirection.IN ? 'incoming' : 'outgoing'}, ${CallState[c.state]})`,
      );
    }
    this.kit.requireReady();
    await this.kit.act(fields);
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
