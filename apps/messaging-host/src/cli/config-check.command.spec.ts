import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { configCheckArgs, ConfigCheckExitCode, runConfigCheck } from './config-check.command';

function run(argv: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = runConfigCheck({ argv, env, cwd: tmpdir(), stdout });
  return { code, out };
}

function file(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'mh-check-')), name);
  writeFileSync(p, text);
  return p;
}

describe('config:check', () => {
  it('takes FILE or --config FILE, and refuses anything else', () => {
    assert.deepEqual(configCheckArgs(['a.config']), ['--config', 'a.config']);
    assert.deepEqual(configCheckArgs(['--config', 'b.json']), ['--config', 'b.json']);
    assert.deepEqual(configCheckArgs(['--config=c.json']), ['--config=c.json']);
    assert.deepEqual(configCheckArgs([]), []);
    assert.equal(configCheckArgs(['--help']), 'help');
    assert.throws(() => configCheckArgs(['a', 'b']), /one configuration file/);
    assert.throws(() => configCheckArgs(['--start']), /unknown argument/);
    assert.equal(run(['--bogus']).code, ConfigCheckExitCode.Usage);
  });

  it('prints the effective configuration (secrets as ***) and the warnings; exit 0 when it would start', () => {
    const p = file(
      'svc.exe.config',
      '<asterisk url="pbx" userName="bpm" secret="s3cr3t-x" colour="red"/>',
    );
    const { code, out } = run([p], { SERVER__TLS__PASSPHRASE: 'pass-y' });
    assert.equal(code, ConfigCheckExitCode.Ok, out);
    assert.match(out, new RegExp(`Configuration file: ${p.replace(/[.]/g, '\\.')}`));
    const json = out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1);
    const shown = JSON.parse(json) as {
      asterisk: Record<string, unknown>;
      server: { tls: Record<string, unknown> };
    };
    assert.equal(shown.asterisk['url'], 'pbx');
    assert.equal(shown.asterisk['secret'], '***');
    assert.equal(shown.server.tls['passphrase'], '***');
    assert.match(out, /Warnings:\n {2}- unknown configuration key asterisk\.colour/);
    assert.match(out, /OK: the service would start/);
    assert.doesNotMatch(out, /s3cr3t-x|pass-y/);
  });

  it('prints every problem and exits 78 when the service would refuse the configuration', () => {
    const p = file(
      'appsettings.json',
      JSON.stringify({
        url: 'pbx',
        secret: 's3cr3t-x',
        reconnectMinDelayMs: 99999,
        packetInfoConfig: 'a=b:c',
      }),
    );
    const { code, out } = run([p]);
    assert.equal(code, ConfigCheckExitCode.Config, out);
    assert.match(out, /asterisk\.userName:/);
    assert.match(out, /asterisk\.reconnectMinDelayMs: notAbove/);
    assert.match(out, /asterisk\.packetInfoConfig:/);
    assert.match(out, /3 problems: the service would refuse to start \(exit 78\)/);
    assert.match(out, /"secret": "\*\*\*"/);
    assert.doesNotMatch(out, /s3cr3t-x/);
  });

  it('a file that cannot be read: the problem, no configuration, exit 78', () => {
    const { code, out } = run([file('x.json', '{ "asterisk": ')]);
    assert.equal(code, ConfigCheckExitCode.Config);
    assert.match(out, /not valid JSON/);
    assert.doesNotMatch(out, /Effective configuration/);
  });
});
