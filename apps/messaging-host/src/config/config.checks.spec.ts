// The migration forms (legacy XML, the guide's JSON forms) and the checks that must refuse a
// configuration before any port opens: all problems in one error, warnings kept.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSelfSignedCert } from '@app/ami/testing';
import { ConfigError } from './config.errors';
import { inspectConfig, loadConfig } from './config.loader';
import { formatConfigError } from './config.report';

function tempFile(content: string, name = 'appsettings.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mh-checks-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const load = (file: string, env: Record<string, string> = {}) =>
  loadConfig({ argv: ['--config', file], env });

function refusal(file: string, env: Record<string, string> = {}): ConfigError {
  try {
    load(file, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('the configuration was accepted');
}

/** The keys of the guide's step 6, values from its XML example. */
const GUIDE_KEYS = `   "url": "10.0.15.185",
   "port": "5038",
   "userName": "bpm",
   "secret": "bpm",
   "originateContext": "from-internal",
   "parkingLotContext": "from-internal",
   "autoPauseOnCommutationStart": "true",
   "queueExtensionFormat": "Local/{0}@from-queue/n",
   "asyncOriginate": "true",
   "sendRingStartedOnRingingState": "true",
   "traceQueuesState": "false",
   "protocol": "SIP/",
   "packetInfoConfig": "",
   "filePath": ""`;

describe('migration forms', () => {
  it('a *.config file is read as the legacy XML: <asterisk> attributes, any case, string values', () => {
    const file = tempFile(
      '<configuration><asterisk FilePath=" " URL=" pbx.local " Port="5039" UserName="bpm" Secret=" s p " Protocol=" PJSIP/ " /></configuration>',
      'Terrasoft.Messaging.Service.exe.config',
    );
    const { config, warnings } = load(file);
    assert.equal(config.asterisk.filePath, '');
    assert.equal(config.asterisk.url, 'pbx.local');
    assert.equal(config.asterisk.port, 5039);
    assert.equal(config.asterisk.userName, 'bpm');
    assert.equal(config.asterisk.secret, ' s p ', 'a secret is kept as written');
    assert.equal(config.asterisk.protocol, 'PJSIP/');
    assert.deepEqual(warnings, []);
  });

  it('an XML attribute the asterisk block does not know is warned about, as in JSON', () => {
    const file = tempFile('<asterisk url="x" userName="u" colour="red"/>', 'a.xml');
    const { warnings } = load(file);
    assert.match(warnings.join('\n'), /unknown configuration key asterisk\.colour/);
  });

  it("the guide's step 6 (asterisk keys at the top level) is the asterisk block, with one warning", () => {
    const { config, warnings } = load(tempFile(`{\n${GUIDE_KEYS}\n}`));
    assert.equal(config.asterisk.url, '10.0.15.185');
    assert.equal(config.asterisk.userName, 'bpm');
    assert.equal(config.asterisk.port, 5038);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /asterisk keys at the top level \(url, port, userName, secret,/);
  });

  it('top-level asterisk keys beside an asterisk block: the block wins, and the warning says so', () => {
    const file = tempFile(
      JSON.stringify({ url: 'top', port: 5040, asterisk: { URL: 'block', userName: 'u' } }),
    );
    const { config, warnings } = load(file);
    assert.equal(config.asterisk.url, 'block');
    assert.equal(config.asterisk.port, 5040);
    assert.match(warnings.join('\n'), /block's own url win/);
  });

  it('the guide\'s "asterisk": { ... } pasted without outer braces, with a trailing comma, is read', () => {
    const { config, warnings } = load(tempFile(`"asterisk": {\n${GUIDE_KEYS},\n}\n`));
    assert.equal(config.asterisk.url, '10.0.15.185');
    assert.match(warnings.join('\n'), /without the enclosing \{ \}/);
  });

  it('trims the values where blanks mean nothing; the environment too', () => {
    const file = tempFile(
      JSON.stringify({ asterisk: { filePath: ' ', url: ' pbx ', userName: ' u ' } }),
    );
    const { config } = load(file, {
      ASTERISK__ORIGINATECONTEXT: ' from-crm ',
      ASTERISK__PARKINGLOTCONTEXT: '\tparked ',
      ASTERISK__QUEUEEXTENSIONFORMAT: ' Local/{0}@q/n ',
    });
    assert.equal(config.asterisk.filePath, '');
    assert.equal(config.asterisk.url, 'pbx');
    assert.equal(config.asterisk.userName, 'u');
    assert.equal(config.asterisk.originateContext, 'from-crm');
    assert.equal(config.asterisk.parkingLotContext, 'parked');
    assert.equal(config.asterisk.queueExtensionFormat, 'Local/{0}@q/n');
  });
});

describe('checks before start', () => {
  it('every problem in one error: cross-key, packetInfoConfig, missing files, TLS, Redis URL; the warnings kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-checks-tls-'));
    const a = writeSelfSignedCert(mkdtempSync(join(dir, 'a-')));
    const b = writeSelfSignedCert(mkdtempSync(join(dir, 'b-')));
    const file = tempFile(
      JSON.stringify({
        asterisk: {
          url: 'pbx',
          userName: 'u',
          secret: 'top-secret-1',
          reconnectMinDelayMs: 20000,
          reconnectMaxDelayMs: 1000,
          packetInfoConfig: 'ok=Context; x=file:/etc/passwd',
          filePath: '/nonexistent/scenario.jsonl',
          colour: 'red',
        },
        // b's key does not belong to a's certificate.
        server: { tls: { certFile: a.certFile, keyFile: b.keyFile } },
        storage: { redis: { url: 'redis//:top-secret-2@host' } },
      }),
    );
    const e = refusal(file);
    const byKey = Object.fromEntries(e.problems.map((p) => [p.slice(0, p.indexOf(':')), p]));
    assert.deepEqual(Object.keys(byKey).sort(), [
      'asterisk.filePath',
      'asterisk.packetInfoConfig',
      'asterisk.reconnectMinDelayMs',
      'server.tls.keyFile',
      'storage.redis.url',
    ]);
    assert.match(
      byKey['asterisk.reconnectMinDelayMs']!,
      /must not be above asterisk\.reconnectMaxDelayMs \(1000\)/,
    );
    assert.match(
      byKey['asterisk.packetInfoConfig']!,
      /entry 'x=file:\/etc\/passwd': unknown source 'file'/,
    );
    assert.match(byKey['asterisk.filePath']!, /file not found: \/nonexistent\/scenario\.jsonl/);
    assert.match(byKey['server.tls.keyFile']!, /is not the PEM private key of the certificate/);
    assert.match(byKey['storage.redis.url']!, /must be redis:\/\//);
    const shown = formatConfigError(e);
    assert.match(shown, /Warnings:\n {2}- unknown configuration key asterisk\.colour/);
    assert.doesNotMatch(shown, /top-secret/);
  });

  it('TLS files: each missing one is named; the TLS port must differ from the plain one', () => {
    const e = refusal(
      tempFile(
        JSON.stringify({
          asterisk: { url: 'x', userName: 'u' },
          server: { port: 2013, tlsPort: 2013, tls: { pfxFile: '/nonexistent/certificate.pfx' } },
        }),
      ),
    );
    assert.deepEqual(
      e.problems.map((p) => p.replace(/ \(value.*$/, '')),
      [
        'server.tls.pfxFile: existingFile: file not found: /nonexistent/certificate.pfx',
        'server.tlsPort: must differ from server.port (both 2013): TLS needs its own port',
      ],
    );
  });

  it('a half PEM pair is named by the missing key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-checks-pem-'));
    const a = writeSelfSignedCert(dir);
    const e = refusal(tempFile('{}'), {
      ASTERISK__USERNAME: 'u',
      SERVER__TLS__CERTFILE: a.certFile,
    });
    assert.deepEqual(e.problems, [
      'server.tls.keyFile: must be set too (PEM certFile and keyFile go together)',
    ]);
  });

  it('environment JSON errors are reported with the other problems', () => {
    const e = refusal(tempFile('{}'), { API__KEYS: '[{', ASTERISK__PORT: 'x' });
    assert.equal(e.problems.length, 3, e.problems.join('\n'));
    assert.match(e.message, /environment API__KEYS: not valid JSON/);
    assert.match(e.message, /asterisk\.port:/);
    assert.match(e.message, /asterisk\.userName:/);
  });

  it("the site's rules: answerMode against protocol, trunk and line patterns, dial rewrites, answer headers", () => {
    const e = refusal(
      tempFile(
        JSON.stringify({
          asterisk: {
            url: 'pbx',
            userName: 'u',
            protocol: 'SIP/',
            answerMode: 'pjsip-notify',
            trunks: ['trunk-*', 'context:from trunk'],
            lines: ['context:x'],
            dialPrefix: '9a',
            dialRewrites: ['+7=8', '7'],
            answerHeaders: ['Alert-Info Ring'],
          },
        }),
      ),
    );
    const byKey = Object.fromEntries(e.problems.map((p) => [p.slice(0, p.indexOf(':')), p]));
    assert.deepEqual(Object.keys(byKey).sort(), [
      'asterisk.answerHeaders',
      'asterisk.answerMode',
      'asterisk.dialPrefix',
      'asterisk.dialRewrites',
      'asterisk.lines',
      'asterisk.trunks',
    ]);
    assert.match(byKey['asterisk.answerMode']!, /pjsip-notify needs asterisk\.protocol PJSIP\//);
    assert.match(byKey['asterisk.trunks']!, /'context:from trunk' is not a context name/);
    assert.match(byKey['asterisk.lines']!, /'context:x' is not an endpoint name/);
    assert.match(byKey['asterisk.dialRewrites']!, /'7' is not from=to/);
    assert.match(byKey['asterisk.answerHeaders']!, /'Alert-Info Ring' is not "Name: value"/);
    const ok = load(tempFile('{}'), {
      ASTERISK__USERNAME: 'u',
      ASTERISK__PROTOCOL: 'PJSIP/',
      ASTERISK__ANSWERMODE: 'pjsip-notify',
      ASTERISK__TRUNKS: 'provider, context:from-trunk*',
    }).config.asterisk;
    assert.equal(ok.answerMode, 'pjsip-notify');
    assert.deepEqual(ok.trunks, ['provider', 'context:from-trunk*']);
  });

  it('inspectConfig returns the merged configuration with its problems instead of throwing', () => {
    const r = inspectConfig({
      argv: ['--config', tempFile('{"asterisk": {"url": "pbx", "port": "abc"}}')],
      env: {},
    });
    assert.equal(r.config?.asterisk.url, 'pbx');
    assert.equal(r.problems.length, 2);
    const broken = inspectConfig({ argv: ['--config', tempFile('{ nope')], env: {} });
    assert.equal(broken.config, null);
    assert.match(broken.problems[0]!, /not valid JSON/);
  });
});
