// Finding 3: SetMsgUserState keeps the new agent state only once Asterisk took the queue pause it
// means: a reason the AMI encoder refuses (nothing sent) or a pause Asterisk refuses leaves the
// old state, and later commands do not trip over a stored bad reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WsCtiClient } from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { queueMember305 } from '../asterisk-harness';
import { bearer, startHostileRig, type HostileRig } from './hostile-rig';

describe('hostile 3: agent state only when the PBX took it', () => {
  let rig: HostileRig;
  let panel: WsCtiClient;
  before(async () => {
    rig = await startHostileRig({}, (ami) =>
      ami.setList('QueueStatus', [queueMember305('support')]),
    );
    panel = await WsCtiClient.connect(rig.ws);
    assert.equal((await panel.open('305', 'alice')).eventType, 2);
  });
  after(async () => {
    await panel?.close();
    await rig?.close();
  });

  const state = async (): Promise<string> => {
    const uid = await panel.command('QueryMsgUserState');
    const e = await panel.reply(uid);
    assert.equal(e.eventType, 12, e.content);
    return e.parsed as string;
  };

  it('a reason with a control character: refused as an invalid argument, the state stays Active', async () => {
    const uid = await panel.command('SetMsgUserState', { code: 'Away', reason: 'lunch\tbreak' });
    const e = await panel.reply(uid);
    assert.equal(e.eventType, 3, e.content);
    const err = e.parsed as { internalErrorCode: string; data: string };
    assert.equal(err.internalErrorCode, 'INVALID_ARGUMENT');
    assert.match(err.data, /control character U\+0009/);
    assert.equal(await state(), 'Active');
    const line = await rig.http().get('/api/v1/lines/305').set(bearer(rig.keys.crm)).expect(200);
    const agent = (line.body as { agentState: { code: string; paused: boolean } }).agentState;
    assert.equal(agent.code, 'Active');
    assert.equal(agent.paused, false);
    // Wrap-up afterwards pauses with its own reason, not the refused one.
    rig.ami.clearActions();
    const wrap = await panel.command('SetWrapUpUserState', { isWrapUpActive: true });
    assert.equal((await panel.reply(wrap)).eventType, 12);
    const pause = await rig.ami.waitForAction('QueuePause');
    assert.equal(pause.get('Reason'), 'WrapUp');
    const unwrap = await panel.command('SetWrapUpUserState', { isWrapUpActive: false });
    assert.equal((await panel.reply(unwrap)).eventType, 12);
  });

  it('a pause Asterisk refuses: ACTION_FAILED, the state stays as it was', async () => {
    rig.ami.onAction('QueuePause', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'Interface not found' }),
    );
    const uid = await panel.command('SetMsgUserState', { code: 'Away', reason: 'lunch' });
    const e = await panel.reply(uid);
    assert.equal(e.eventType, 3, e.content);
    assert.equal((e.parsed as { internalErrorCode: string }).internalErrorCode, 'ACTION_FAILED');
    assert.equal(await state(), 'Active');
  });
});
