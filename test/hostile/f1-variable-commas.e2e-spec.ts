// Finding 1: a comma in an Originate variable's value must not make Asterisk set other variables
// or functions. Asterisk splits a Variable header at commas (manager.c man_do_variable_value,
// app.c __ast_app_separate_args): each variable goes on its own header with the splitter's
// characters escaped, so Asterisk reads back exactly the variables the API was given.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AMI_CONTROL_CHARACTERS, AmiDecoder, encodeAction, type AmiPacket } from '@app/ami';
import { asteriskVariables } from '../support/asterisk-splitter';
import { bearer, startHostileRig, type HostileRig } from './hostile-rig';

function decodeOne(bytes: Buffer): AmiPacket {
  const out: AmiPacket[] = [];
  const d = new AmiDecoder(
    { onPacket: (p) => out.push(p), onError: (e) => assert.fail(e) },
    { expectBanner: false },
  );
  d.push(bytes);
  assert.equal(out.length, 1);
  return out[0]!;
}

/** Every variable Asterisk would set from the Variable headers of an encoded action. */
function asteriskSets(p: AmiPacket): [string, string][] {
  return p.getAll('Variable').flatMap((v) => asteriskVariables(v));
}

describe('hostile 1: commas in Originate variables', () => {
  let rig: HostileRig;
  before(async () => {
    rig = await startHostileRig();
  });
  after(() => rig?.close());

  it('POST /api/v1/calls sets CRM to the whole value, and neither CALLERID(num) nor CDR(userfield)', async () => {
    const value = 'a,CALLERID(num)=666,CDR(userfield)=x';
    rig.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'no' }),
    );
    await rig
      .http()
      .post('/api/v1/calls')
      .set(bearer(rig.keys.crm))
      .send({ line: '305', number: '600', variables: { CRM: value, B: 'x"y\\z[1]' } });
    const originate = await rig.ami.waitForAction('Originate');
    assert.deepEqual(asteriskSets(originate), [
      ['CRM', value],
      ['B', 'x"y\\z[1]'],
    ]);
  });

  it('any name and value (no control character) reaches Asterisk as exactly one variable', () => {
    const text = fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .filter((s) => !AMI_CONTROL_CHARACTERS.test(s));
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(name, text, fc.boolean(), (n, v, asString) => {
        const fields = asString
          ? { Action: 'Originate', Channel: 'SIP/305', Variable: [`${n}=${v}`] }
          : { Action: 'Originate', Channel: 'SIP/305', Variable: { [n]: v } };
        assert.deepEqual(asteriskSets(decodeOne(encodeAction(fields))), [[n, v]]);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves the Variable of Setvar and Getvar (a bare name) as it is', () => {
    const p = decodeOne(
      encodeAction({ Action: 'Setvar', Variable: 'CDR(userfield)', Value: 'a,b' }),
    );
    assert.equal(p.get('Variable'), 'CDR(userfield)');
    assert.equal(p.get('Value'), 'a,b');
  });
});
