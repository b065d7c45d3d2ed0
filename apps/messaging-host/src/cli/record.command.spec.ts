import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '@app/ami';
import { AsteriskConfig } from '../config/app-config';
import {
  amiClientOptionsFromConfig,
  parseRecordArgs,
  RecordUsageError,
  ScenarioFileWriter,
} from './record.command';

const dir = mkdtempSync(join(tmpdir(), 'record-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('parseRecordArgs', () => {
  it('reads --out (both forms), --force and --help, leaving --config to loadConfig', () => {
    assert.deepEqual(parseRecordArgs(['--out', 'a.jsonl']), {
      out: 'a.jsonl',
      force: false,
      help: false,
    });
    assert.deepEqual(parseRecordArgs(['--config', 'c.json', '--out=b.jsonl', '--force']), {
      out: 'b.jsonl',
      force: true,
      help: false,
    });
    assert.equal(parseRecordArgs(['--help']).help, true);
  });

  it('refuses a missing --out, a missing value and unknown arguments, saying which', () => {
    assert.throws(() => parseRecordArgs([]), RecordUsageError);
    assert.throws(() => parseRecordArgs(['--out']), /--out needs a file name/);
    assert.throws(() => parseRecordArgs(['--out', '--force']), /--out needs a file name/);
    assert.throws(
      () => parseRecordArgs(['--out', 'x', '--speed', '2']),
      /unknown argument "--speed"/,
    );
  });
});

describe('amiClientOptionsFromConfig', () => {
  it('maps the asterisk block onto the AMI client options', () => {
    const a = Object.assign(new AsteriskConfig(), {
      url: 'pbx.example',
      port: 5039,
      userName: 'terrasoft',
      secret: 's',
      tls: true,
      tlsRejectUnauthorized: false,
      authType: 'md5' as const,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 400,
    });
    const o = amiClientOptionsFromConfig(a);
    assert.equal(o.host, 'pbx.example');
    assert.equal(o.port, 5039);
    assert.equal(o.username, 'terrasoft');
    assert.deepEqual(o.tls, { rejectUnauthorized: false });
    assert.equal(o.authType, 'md5');
    assert.equal(o.pingIntervalMs, a.pingIntervalMs);
    const delays = [1, 2, 3, 4, 5].map((n) => o.reconnectStrategy!.delay(n)!);
    assert.ok(
      delays.every((d) => d >= 80 && d <= 400),
      delays.join(','),
    );
    assert.equal(amiClientOptionsFromConfig(new AsteriskConfig()).tls, undefined);
  });
});

describe('ScenarioFileWriter', () => {
  it('writes records the scenario parser reads, secrets removed, connections numbered from 1', () => {
    const file = join(dir, 'w.jsonl');
    let t = 1795582044.790513;
    const w = new ScenarioFileWriter(openSync(file, 'wx'), () => (t += 0.25));
    w.comment('a test\nrecording');
    w.write({ dir: 'meta', bytes: Buffer.alloc(0), note: 'connected', conn: 3 });
    w.write({ dir: 'rx', bytes: Buffer.from('Asterisk Call Manager/9.0.0\r\n'), conn: 3 });
    w.write({
      dir: 'tx',
      bytes: Buffer.from('Action: Login\r\nUsername: u\r\nSecret: hunter2\r\n\r\n'),
      conn: 3,
    });
    w.write({ dir: 'meta', bytes: Buffer.alloc(0), note: 'closed: EOF', conn: 7 });
    w.meta('recording stopped (SIGINT)');
    assert.equal(w.count, 5);
    w.close();
    w.write({ dir: 'rx', bytes: Buffer.from('late'), conn: 7 });

    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('hunter2'));
    assert.ok(text.startsWith('# a test recording\n'));
    const records = parseScenario(text, file);
    assert.deepEqual(
      records.map((r) => [r.seq, r.conn, r.dir, r.len]),
      [
        [1, 1, 'meta', 0],
        [2, 1, 'rx', 29],
        [3, 1, 'tx', 43],
        [4, 2, 'meta', 0],
        [5, 2, 'meta', 0],
      ],
    );
    assert.equal(records[2]!.text, 'Action: Login\r\nUsername: u\r\nSecret: ***\r\n\r\n');
    assert.equal(records[0]!.t, 1795582045.040513);
    assert.equal(records[0]!.ts, '2026-11-25T04:47:25.040513Z');
    assert.equal(records[4]!.note, 'recording stopped (SIGINT)');
  });
});
