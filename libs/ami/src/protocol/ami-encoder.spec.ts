import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AmiError, AmiErrorCode } from '../ami.errors';
import { AmiDecoder } from './ami-decoder';
import { encodeAction, type AmiActionFields } from './ami-encoder';
import type { AmiPacket } from './ami-packet';

function decodeOne(buf: Buffer): AmiPacket {
  const packets: AmiPacket[] = [];
  const d = new AmiDecoder(
    { onPacket: (p) => packets.push(p), onError: (e) => assert.fail(e) },
    { expectBanner: false },
  );
  d.push(buf);
  assert.equal(packets.length, 1);
  assert.equal(d.bufferedBytes, 0);
  return packets[0]!;
}

function assertInjection(fields: AmiActionFields, secret: string, about: RegExp): void {
  assert.throws(
    () => encodeAction(fields),
    (e: unknown) => {
      assert.ok(e instanceof AmiError);
      assert.equal(e.code, AmiErrorCode.Injection);
      assert.match(e.message, about);
      assert.ok(
        !e.message.includes(secret),
        `the message must not contain the value: ${e.message}`,
      );
      return true;
    },
  );
}

describe('encodeAction', () => {
  it('writes Action first, then the headers in order, CRLF line ends and an empty line', () => {
    const buf = encodeAction({
      ActionID: 'login-1',
      Action: 'Login',
      Username: 'terrasoft',
      Secret: 'terrasoft',
    });
    assert.equal(
      buf.toString('utf8'),
      'Action: Login\r\nActionID: login-1\r\nUsername: terrasoft\r\nSecret: terrasoft\r\n\r\n',
    );
  });

  it('repeats array headers, writes Variable objects as name=value lines, skips null and undefined', () => {
    const buf = encodeAction({
      Action: 'Originate',
      Channel: 'SIP/305',
      Async: true,
      Timeout: 30000,
      Variable: { FROM: '79161234567', NAME: 'Иванов Пётр' },
      Codecs: ['ulaw', 'alaw'],
      Account: undefined,
      Data: null,
    });
    assert.equal(
      buf.toString('utf8'),
      'Action: Originate\r\nChannel: SIP/305\r\nAsync: true\r\nTimeout: 30000\r\n' +
        'Variable: FROM=79161234567\r\nVariable: NAME=Иванов Пётр\r\nCodecs: ulaw\r\nCodecs: alaw\r\n\r\n',
    );
  });

  it('round-trips through the decoder', () => {
    const p = decodeOne(
      encodeAction({ Action: 'Setvar', ActionID: 'a b:c', Variable: 'X', Value: ' spaced: yes' }),
    );
    assert.deepEqual(p.keys, ['Action', 'ActionID', 'Variable', 'Value']);
    assert.deepEqual(p.values, ['Setvar', 'a b:c', 'X', 'spaced: yes']);
  });

  it('refuses CR or LF in a value (AMI injection), without the value in the message', () => {
    const secret = 'hunter2\r\n\r\nAction: Originate\r\nChannel: SIP/999';
    assertInjection({ Action: 'Login', Username: 'u', Secret: secret }, secret, /Secret.*CR or LF/);
    assertInjection({ Action: 'Login', Username: 'u', Secret: 'pw\nx' }, 'pw\nx', /Secret/);
    assertInjection({ Action: 'Login', Username: 'u', Secret: 'pw\rx' }, 'pw\rx', /Secret/);
    assertInjection(
      { Action: 'Originate', Variable: ['A=1', 'B=2\r\nAction: Logoff'] },
      'Logoff',
      /Variable/,
    );
    assertInjection({ Action: 'Originate', Variable: { A: 'x\ny' } }, 'x\ny', /Variable/);
    assertInjection({ Action: 'Ping\r\nAction: Logoff' }, 'Logoff', /Action/);
  });

  it('refuses a bad header name: spaces, colon, CR/LF, empty; and `=` in a variable name', () => {
    for (const key of ['Bad Key', 'Key:', 'Key\r\nAction', '', 'Ключ']) {
      assertInjection({ Action: 'Ping', [key]: 'v' }, '\u0000', /header name|not a plain token/);
    }
    assertInjection(
      { Action: 'Originate', Variable: { 'A=B': 'topsecret' } },
      'topsecret',
      /contains '='/,
    );
  });

  it('refuses an action without a name and values of other types', () => {
    assertInjection({ Action: '' }, '\u0000', /without an Action/);
    assert.throws(
      () => encodeAction({ Action: 'Ping', X: [{}] as unknown as string[] }),
      (e: unknown) => e instanceof AmiError && e.code === AmiErrorCode.Injection,
    );
  });
});
