import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerAction,
  answerHeaderProblem,
  autoAnswerVariables,
  canAnswer,
  type AnswerOptions,
} from './answer-mode';

const opts = (over: Partial<AnswerOptions>): AnswerOptions => ({
  mode: 'none',
  notifyOption: '',
  headers: ['Call-Info: <sip:autoanswer>;answer-after=0', 'Alert-Info: info=alert-autoanswer'],
  ...over,
});

describe('answer mode', () => {
  it('only the NOTIFY modes can answer a ringing call', () => {
    assert.deepEqual(
      (['none', 'pjsip-notify', 'sip-notify', 'header'] as const).map((mode) =>
        canAnswer(opts({ mode })),
      ),
      [false, true, true, false],
    );
  });

  it('the documented actions: PJSIPNotify (Endpoint + Variable or Option), SIPnotify (Channel + Variable)', () => {
    assert.deepEqual(answerAction(opts({ mode: 'pjsip-notify' }), '405'), {
      Action: 'PJSIPNotify',
      Endpoint: '405',
      Variable: 'Event=talk',
    });
    assert.deepEqual(answerAction(opts({ mode: 'pjsip-notify', notifyOption: 'yealink' }), '405'), {
      Action: 'PJSIPNotify',
      Endpoint: '405',
      Option: 'yealink',
    });
    assert.deepEqual(answerAction(opts({ mode: 'sip-notify' }), '305'), {
      Action: 'SIPnotify',
      Channel: '305',
      Variable: 'Event=talk',
    });
    assert.equal(answerAction(opts({ mode: 'none' }), '305'), undefined);
    assert.equal(answerAction(opts({ mode: 'header' }), '305'), undefined);
  });

  it('header mode: the Originate variables per technology; none for other modes', () => {
    assert.deepEqual(autoAnswerVariables(opts({ mode: 'header' }), 'SIP/'), [
      'SIPADDHEADER51=Call-Info: <sip:autoanswer>;answer-after=0',
      'SIPADDHEADER52=Alert-Info: info=alert-autoanswer',
    ]);
    assert.deepEqual(autoAnswerVariables(opts({ mode: 'header' }), 'PJSIP/'), [
      'PJSIP_HEADER(add,Call-Info)=<sip:autoanswer>;answer-after=0',
      'PJSIP_HEADER(add,Alert-Info)=info=alert-autoanswer',
    ]);
    assert.deepEqual(autoAnswerVariables(opts({ mode: 'sip-notify' }), 'SIP/'), []);
  });

  it('answerHeaderProblem: "Name: value", one line', () => {
    assert.equal(answerHeaderProblem('Alert-Info: Ring Answer'), undefined);
    assert.match(answerHeaderProblem('no colon') ?? '', /is not "Name: value"/);
    assert.match(answerHeaderProblem('X Y: z') ?? '', /is not "Name: value"/);
    assert.match(answerHeaderProblem('A: b\r\nAction: Hangup') ?? '', /one line/);
  });
});
