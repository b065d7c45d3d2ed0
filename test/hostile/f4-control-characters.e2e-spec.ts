// Finding 4: no control character (NUL, VT, FF, TAB, ESC, U+0085, U+2028, U+2029, ... not only
// CR/LF) reaches AMI, whoever sends it: one guard in libs/ami's encoder refuses every header value
// holding one (AMI_INJECTION, naming the character, never the value); REST refuses them first
// with a 400 naming the field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AMI_CONTROL_CHARACTERS, AmiError, AmiErrorCode, encodeAction } from '@app/ami';
import { WsCtiClient } from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { queueMember305 } from '../asterisk-harness';
import { bearer, startHostileRig, type HostileRig } from './hostile-rig';

const CONTROLS = [
  '\u0000',
  '\u000b',
  '\u000c',
  '\t',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
];

/** Whether any header value of any action the fake PBX received holds a control character. */
function controlsReachedAmi(rig: HostileRig): string[] {
  return rig.ami.actions.flatMap((a) => a.values.filter((v) => AMI_CONTROL_CHARACTERS.test(v)));
}

describe('hostile 4: control characters', () => {
  it('the encoder refuses each of them in any header, naming the character, never the value', () => {
    for (const c of CONTROLS) {
      const secret = `secret${c}tail`;
      for (const fields of [
        { Action: 'QueuePause', Interface: 'SIP/305', Paused: 'true', Reason: secret },
        { Action: 'Originate', Channel: 'SIP/305', CallerID: secret },
        { Action: 'Originate', Channel: 'SIP/305', Variable: { CRM: secret } },
        { Action: 'Originate', Channel: 'SIP/305', Variable: [`CRM=${secret}`] },
        { Action: 'Login', Username: 'u', Secret: secret },
      ]) {
        assert.throws(
          () => encodeAction(fields),
          (e: unknown) => {
            assert.ok(e instanceof AmiError);
            assert.equal(e.code, AmiErrorCode.Injection);
            assert.match(e.message, /control character U\+|CR or LF/);
            assert.ok(!e.message.includes('secret'), e.message);
            return true;
          },
          `${JSON.stringify(c)} in ${JSON.stringify(Object.keys(fields))}`,
        );
      }
    }
  });

  describe('through the service', () => {
    let rig: HostileRig;
    before(async () => {
      rig = await startHostileRig({}, (ami) =>
        ami.setList('QueueStatus', [queueMember305('support')]),
      );
    });
    after(() => rig?.close());

    it('REST: callerId, variable values and the queue-pause reason with one get 400 naming the field', async () => {
      for (const c of ['\t', '\u0085', '\u2028', '\u0000']) {
        const call = await rig
          .http()
          .post('/api/v1/calls')
          .set(bearer(rig.keys.crm))
          .send({ line: '305', number: '600', callerId: `"A${c}" <305>` });
        assert.equal(call.status, 400, call.text);
        assert.deepEqual((call.body as { fields: string[] }).fields, ['callerId']);
        const vars = await rig
          .http()
          .post('/api/v1/calls')
          .set(bearer(rig.keys.crm))
          .send({ line: '305', number: '600', variables: { CRM: `a${c}b` } });
        assert.equal(vars.status, 400, vars.text);
        assert.deepEqual((vars.body as { fields: string[] }).fields, ['variables']);
        const pause = await rig
          .http()
          .put('/api/v1/lines/305/queue-pause')
          .set(bearer(rig.keys.crm))
          .send({ paused: true, reason: `lunch${c}` });
        assert.equal(pause.status, 400, pause.text);
        assert.deepEqual((pause.body as { fields: string[] }).fields, ['reason']);
      }
      assert.deepEqual(controlsReachedAmi(rig), []);
    });

    it('gateway: a SetMsgUserState reason with one is refused and never reaches AMI', async () => {
      const panel = await WsCtiClient.connect(rig.ws);
      try {
        assert.equal((await panel.open('305', 'alice')).eventType, 2);
        for (const c of CONTROLS) {
          const uid = await panel.command('SetMsgUserState', { code: 'Away', reason: `lunch${c}` });
          const reply = await panel.reply(uid);
          assert.equal(reply.eventType, 3, `${JSON.stringify(c)}: ${reply.content}`);
        }
        assert.deepEqual(controlsReachedAmi(rig), []);
      } finally {
        await panel.close();
      }
    });
  });
});
