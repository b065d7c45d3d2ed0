// Finding 5: a line is compared the way the channel driver compares device names (chan_sip:
// without regard to case, so `OFFICE` is the phone `office`), for ownership and settings; and
// ExtensionName must be a plain line name, refused otherwise with error 2 naming why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  WsCtiClient,
  type ReceivedEvent,
} from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { queueMember305 } from '../asterisk-harness';
import { bearer, openRaw, startHostileRig, type HostileRig } from './hostile-rig';

function errorOf(e: ReceivedEvent): { errorType: number; internalErrorCode: string; data: string } {
  assert.equal(e.eventType, 3, e.content);
  return e.parsed as { errorType: number; internalErrorCode: string; data: string };
}

describe('hostile 5: line names', () => {
  const panels: WsCtiClient[] = [];
  const connect = async (rig: HostileRig): Promise<WsCtiClient> => {
    const p = await WsCtiClient.connect(rig.ws);
    panels.push(p);
    return p;
  };
  after(async () => {
    for (const p of panels) await p.close();
  });

  describe('chan_sip (asterisk.protocol SIP/)', () => {
    let rig: HostileRig;
    before(async () => {
      // Asterisk names the queue member as configured: Office.
      rig = await startHostileRig({}, (ami) =>
        ami.setList('QueueStatus', [
          { ...queueMember305('support', 'Local/Office@from-queue/n'), Name: 'Office' },
        ]),
      );
    });
    after(() => rig?.close());

    it('with office bound to alice, bob cannot open OFFICE (nor Office), and makes no call from it', async () => {
      const alice = await connect(rig);
      assert.equal((await alice.open('office', 'alice')).eventType, 2);
      for (const spelling of ['OFFICE', 'Office']) {
        const bob = await connect(rig);
        const refused = errorOf(await bob.open(spelling, 'bob'));
        assert.equal(refused.errorType, 2);
        assert.equal(refused.internalErrorCode, 'LINE_OWNED_BY_OTHER_USER');
        // Error 2 closes the socket: nothing more can be sent on it.
        await bob.events.waitClosed();
      }
      // Alice herself, in another tab and spelling, shares her line.
      const tab = await connect(rig);
      assert.equal((await tab.open('OFFICE', 'alice')).eventType, 2);
      assert.deepEqual(
        rig.ami.actions.filter((a) => a.get('Action') === 'Originate'),
        [],
      );
    });

    it('settings stored for Office (userUId) hold for office and OFFICE', async () => {
      await rig
        .http()
        .put('/api/v1/lines/Office2/settings')
        .set(bearer(rig.keys.crm))
        .send({ userUId: 'carol' })
        .expect(200);
      const got = await rig.http().get('/api/v1/lines/OFFICE2/settings').set(bearer(rig.keys.crm));
      assert.equal(got.status, 200, got.text);
      assert.equal((got.body as { userUId: string }).userUId, 'carol');
      const dave = await connect(rig);
      const refused = errorOf(await dave.open('office2', 'dave'));
      assert.equal(refused.errorType, 2);
      assert.match(refused.data, /assigned to another user/);
    });

    it("the library finds Office's queue membership under office and OFFICE (REST and the panel)", async () => {
      for (const spelling of ['office', 'OFFICE', 'Office']) {
        const r = await rig.http().get(`/api/v1/lines/${spelling}`).set(bearer(rig.keys.crm));
        assert.equal(r.status, 200, `${spelling}: ${r.text}`);
        assert.deepEqual(
          (r.body as { queues: { queue: string }[] }).queues.map((q) => q.queue),
          ['support'],
        );
      }
    });

    it('ExtensionName must be a plain line name: error 2 naming why', async () => {
      const cases: [string, RegExp][] = [
        ['{"ExtensionName":1e400}', /not a whole line number/],
        ['{"ExtensionName":3.5}', /not a whole line number/],
        ['{"ExtensionName":"SIP/305"}', /without its channel technology/],
        ['{"ExtensionName":"305 306"}', /may hold only letters, digits/],
        ['{"ExtensionName":"30\\u00e95"}', /may hold only letters, digits/],
        [`{"ExtensionName":"${'1'.repeat(65)}"}`, /65 characters long/],
        ['{"ExtensionName":true}', /a boolean is not a line name/],
      ];
      for (const [params, why] of cases) {
        const p = await connect(rig);
        const e = errorOf(await openRaw(p, params, 'erin'));
        assert.equal(e.errorType, 2, params);
        assert.match(e.data, /ExtensionName is not a plain line name/, params);
        assert.match(e.data, why, params);
      }
      const numeric = await connect(rig);
      assert.equal((await openRaw(numeric, '{"ExtensionName":307}', 'erin')).eventType, 2);
    });
  });

  describe('chan_pjsip (asterisk.protocol PJSIP/): names are exact', () => {
    let rig: HostileRig;
    before(async () => {
      rig = await startHostileRig({ ASTERISK__PROTOCOL: 'PJSIP/' });
    });
    after(() => rig?.close());

    it('office and OFFICE are two endpoints, two owners', async () => {
      const alice = await connect(rig);
      assert.equal((await alice.open('office', 'alice')).eventType, 2);
      const bob = await connect(rig);
      assert.equal((await bob.open('OFFICE', 'bob')).eventType, 2);
    });
  });
});
