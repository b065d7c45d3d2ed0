/**
 * Owns answering from the CRM (asterisk.answerMode): the AMI action that makes the line's phone
 * answer its ringing call, or the headers that make it answer a click-to-call by itself. Pure.
 */
import type { AmiActionFields } from '@app/ami';

export const ANSWER_MODES = ['none', 'pjsip-notify', 'sip-notify', 'header'] as const;
export type AnswerMode = (typeof ANSWER_MODES)[number];

export interface AnswerOptions {
  mode: AnswerMode;
  /** pjsip-notify: a pjsip_notify.conf section to send (`Option:`); empty sends `Event: talk`. */
  notifyOption: string;
  /** header: the SIP headers a click-to-call's INVITE carries (`Name: value`). */
  headers: readonly string[];
}

/** Whether AnswerCall can make the phone answer a ringing call (the ANSWER feature bit). */
export function canAnswer(o: AnswerOptions): boolean {
  return o.mode === 'pjsip-notify' || o.mode === 'sip-notify';
}

/**
 * The action that answers the ringing call of `endpoint` (the line): AMI PJSIPNotify to the
 * endpoint (docs: Endpoint, and Option or Variable), or SIPnotify to the peer (Channel, Variable).
 * Both carry `Event: talk`, the NOTIFY most desk phones answer on (Yealink, Snom, Grandstream...).
 */
export function answerAction(o: AnswerOptions, endpoint: string): AmiActionFields | undefined {
  switch (o.mode) {
    case 'pjsip-notify':
      return o.notifyOption
        ? { Action: 'PJSIPNotify', Endpoint: endpoint, Option: o.notifyOption }
        : { Action: 'PJSIPNotify', Endpoint: endpoint, Variable: 'Event=talk' };
    case 'sip-notify':
      return { Action: 'SIPnotify', Channel: endpoint, Variable: 'Event=talk' };
    default:
      return undefined;
  }
}

/**
 * header mode: the Originate variables that add the auto-answer headers to the INVITE of the
 * operator's phone (chan_sip SIPADDHEADERnn, PJSIP PJSIP_HEADER(add,Name)).
 */
export function autoAnswerVariables(o: AnswerOptions, protocol: string): string[] {
  if (o.mode !== 'header') return [];
  const pjsip = protocol.toUpperCase() === 'PJSIP/';
  return o.headers.map((h, i) => {
    const colon = h.indexOf(':');
    const name = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    return pjsip
      ? `PJSIP_HEADER(add,${name})=${value}`
      : `SIPADDHEADER${String(51 + i)}=${name}: ${value}`;
  });
}

/** Why a header entry is malformed, or undefined (for the configuration check). */
export function answerHeaderProblem(h: string): string | undefined {
  const colon = h.indexOf(':');
  if (colon <= 0 || !/^[A-Za-z0-9-]+$/.test(h.slice(0, colon).trim()))
    return `'${h}' is not "Name: value"`;
  if (/[\r\n]/.test(h)) return 'a header must be one line';
  return undefined;
}
