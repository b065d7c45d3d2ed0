import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath } from '@app/ami/testing';
import {
  formatScenarioRecord,
  parseScenario,
  redactSecrets,
  type AmiScenarioRecord,
} from './ami-scenario';

describe('formatScenarioRecord', () => {
  it('writes what parseScenario reads back, in the fixtures’ key order', () => {
    const rec: AmiScenarioRecord = {
      seq: 7,
      conn: 2,
      dir: 'rx',
      t: 1795582044.791387,
      len: 29,
      b64: Buffer.from('Asterisk Call Manager/9.0.0\r\n').toString('base64'),
    };
    const line = formatScenarioRecord(rec);
    assert.deepEqual(Object.keys(JSON.parse(line) as object), [
      'seq',
      'conn',
      'dir',
      't',
      'ts',
      'len',
      'b64',
      'text',
    ]);
    const [back] = parseScenario(line);
    assert.equal(back!.seq, 7);
    assert.equal(back!.conn, 2);
    assert.equal(back!.t, rec.t);
    assert.equal(back!.ts, '2026-11-25T04:47:24.791Z');
    assert.equal(back!.text, 'Asterisk Call Manager/9.0.0\r\n');
    assert.equal(back!.b64, rec.b64);
  });

  it('keeps a meta record’s note', () => {
    const line = formatScenarioRecord({
      seq: 1,
      conn: 1,
      dir: 'meta',
      t: 1,
      len: 0,
      b64: '',
      note: 'connected to 127.0.0.1:5038',
    });
    assert.equal(parseScenario(line)[0]!.note, 'connected to 127.0.0.1:5038');
  });

  it('reproduces every fixture line’s content', () => {
    for (const name of ['a0_login_failed', 'h_core_restart', 'b3_originate_noanswer']) {
      const lines = readFileSync(fixturePath(name), 'utf8').split('\n').filter(Boolean);
      const records = parseScenario(lines.join('\n'), name);
      records.forEach((r, i) => {
        assert.deepEqual(JSON.parse(formatScenarioRecord(r)), JSON.parse(lines[i]!));
      });
    }
  });
});

describe('redactSecrets', () => {
  const text = (b: Buffer) => b.toString('latin1');

  it('replaces the Secret of a Login, keeping every other byte', () => {
    const out = redactSecrets(
      Buffer.from(
        'Action: Login\r\nActionID: login-1\r\nUsername: terrasoft\r\nSecret: pa:ss w0rd\r\n\r\n',
      ),
    );
    assert.equal(
      text(out),
      'Action: Login\r\nActionID: login-1\r\nUsername: terrasoft\r\nSecret: ***\r\n\r\n',
    );
  });

  it('replaces the MD5 Key of a Login, whatever the case of the names', () => {
    const out = redactSecrets(
      Buffer.from(
        'action: login\r\nauthtype: md5\r\nusername: u\r\nKEY: 0123456789abcdef\r\nEvents: on\r\n\r\n',
      ),
    );
    assert.ok(!text(out).includes('0123456789abcdef'));
    assert.match(text(out), /KEY: \*\*\*\r\nEvents: on\r\n/);
  });

  it('replaces Secret lines of any action, but leaves Key alone outside a Login (DBGet)', () => {
    const out = text(
      redactSecrets(
        Buffer.from(
          'Action: DBGet\r\nFamily: cidname\r\nKey: 305\r\n\r\nAction: UpdateConfig\r\nSecret: x\r\n\r\n',
        ),
      ),
    );
    assert.match(out, /Key: 305/);
    assert.match(out, /Secret: \*\*\*/);
  });

  it('leaves bytes without secrets as they are (the same buffer)', () => {
    const b = Buffer.from('Action: Ping\r\nActionID: ping-2\r\n\r\n');
    assert.equal(redactSecrets(b), b);
  });

  it('handles bare LF line ends and UTF-8 around the secret', () => {
    const out = redactSecrets(
      Buffer.from('Action: Login\nUsername: оператор\nSecret: пароль\n\n', 'utf8'),
    );
    assert.equal(out.toString('utf8'), 'Action: Login\nUsername: оператор\nSecret: ***\n\n');
  });
});
