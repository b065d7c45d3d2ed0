// Issue 14, acceptance 1: an admin's configuration from Creatio's messaging service starts the
// service as it is (the guide's XML example, its JSON example in both forms), and every config
// problem stops it before a port opens: exit 78, each key named, one message, no stack, no secret.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAmiServer } from '@app/ami/testing';
import {
  freePort,
  httpGet,
  repoRoot,
  startService,
  type ServiceProcess,
} from './support/service-process';

/** The guide's XML example, character for character (`filePath=" "url=` included). */
const GUIDE_XML = `<asterisk   filePath=" "url="10.0.15.185" port="5038"
userName="bpm" secret="bpm" originateContext="from-internal"
parkingLotContext="from-internal" autoPauseOnCommutationStart="true"
queueExtensionFormat="Local/{0}@from-queue/n" asyncOriginate="true"
sendRingStartedOnRingingState="true" traceQueuesState="false"
protocol="SIP/" packetInfoConfig=""/>`;

/** The whole .NET Framework service file around it, as an admin copies it over. */
const EXE_CONFIG = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="asterisk" type="Terrasoft.Messaging.Asterisk.AsteriskConfigurationSection, Terrasoft.Messaging.Asterisk" />
  </configSections>
  ${GUIDE_XML}
  <appSettings>
    <add key="Port" value="2013" />
  </appSettings>
  <startup>
    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />
  </startup>
</configuration>
`;

/** The guide's step 6 keys (values of its XML example), as its two JSON examples show them. */
const KEYS = `   "url": "10.0.15.185",
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
/** Step 6: the keys at the top level of etc/appsettings.json. */
const STEP6_JSON = `{\n\n${KEYS}\n}\n`;
/** "Пример настроенной конфигурации": the block with its "asterisk" name, as printed. */
const BLOCK_JSON = `"asterisk": {\n${KEYS}\n}\n`;

function write(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mh-migrate-')), name);
  writeFileSync(path, text);
  return path;
}

/** The lab is this machine: the guide's PBX address and AMI port become the fake AMI's. */
function toLab(text: string, ami: FakeAmiServer): string {
  return text.replace('10.0.15.185', ami.host).replace(/"5038"/, `"${ami.port}"`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("migrating from Creatio's messaging service (acceptance 1)", () => {
  const started: ServiceProcess[] = [];
  const amis: FakeAmiServer[] = [];
  after(async () => {
    started.forEach((p) => p.kill());
    await Promise.all(amis.map((a) => a.close()));
  });

  /** Starts the service on `file` with only a free client port and a temp settings file added. */
  async function startsAndIsReady(name: string, text: (ami: FakeAmiServer) => string) {
    const ami = await FakeAmiServer.start({ username: 'bpm', secret: 'bpm' });
    amis.push(ami);
    const file = write(name, text(ami));
    const port = await freePort();
    const p = startService(
      {
        SERVER__PORT: String(port),
        SERVER__HOST: '127.0.0.1',
        STORAGE__FILE__PATH: join(mkdtempSync(join(tmpdir(), 'mh-migrate-data-')), 's.json'),
      },
      ['--config', file],
    );
    started.push(p);
    await p.waitForOutput(/listening on/);
    const ready = await until('not ready', async () => {
      const r = await httpGet(port, '/health/ready');
      return r.status === 200 ? r : undefined;
    });
    assert.match(ready.body, /"status":"ok"/);
    const login = ami.actions.find((a) => a.get('Action') === 'Login');
    assert.equal(login?.get('Username'), 'bpm', 'logged in as the file says');
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0, p.output());
    return p.output();
  }

  it("the guide's XML example inside Terrasoft.Messaging.Service.exe.config starts the service", async () => {
    const out = await startsAndIsReady('Terrasoft.Messaging.Service.exe.config', (ami) =>
      toLab(EXE_CONFIG, ami),
    );
    assert.match(out, /no blank before attribute url/);
    assert.match(out, /ignored: <configSections>, <appSettings>, <startup>/);
  });

  it("the guide's JSON, step 6 form (the keys at the top level), starts the service with one warning", async () => {
    const out = await startsAndIsReady('appsettings.json', (ami) => toLab(STEP6_JSON, ami));
    assert.equal(out.match(/asterisk keys at the top level/g)?.length, 1, out);
  });

  it('the guide\'s JSON, "asterisk": { ... } form as printed, starts the service', async () => {
    const out = await startsAndIsReady('appsettings.json', (ami) => toLab(BLOCK_JSON, ami));
    assert.match(out, /without the enclosing \{ \}/);
  });

  it('every config problem: exit 78 before any port opens, each key named in one message, warnings shown, no stack or secret', async () => {
    const SECRET = 'guide-secret-7';
    const port = await freePort();
    const file = write(
      'Terrasoft.Messaging.Service.exe.config',
      `<configuration><asterisk url="pbx" userName="bpm" secret="${SECRET}" colour="red"
        reconnectMinDelayMs="60000" reconnectMaxDelayMs="1000"
        packetInfoConfig="crm=var:CRM_ID; x=file:/etc/passwd"
        filePath=" /nonexistent/scenario.jsonl "/></configuration>`,
    );
    const p = startService(
      {
        SERVER__PORT: String(port),
        SERVER__HOST: '127.0.0.1',
        SERVER__TLS__CERTFILE: '/nonexistent/cert.pem',
        SERVER__TLS__KEYFILE: '/nonexistent/key.pem',
        STORAGE__REDIS__URL: `redis//:${SECRET}@host`,
      },
      ['--config', file],
    );
    started.push(p);
    const timer = setTimeout(() => p.kill(), 10000);
    const { code } = await p.exited;
    clearTimeout(timer);
    const out = p.output();
    assert.equal(code, 78, out);
    for (const key of [
      'asterisk.reconnectMinDelayMs',
      'asterisk.packetInfoConfig',
      'asterisk.filePath',
      'server.tls.certFile',
      'server.tls.keyFile',
      'storage.redis.url',
    ]) {
      assert.match(out, new RegExp(`\\n {2}- ${key.replace(/\./g, '\\.')}: `), `${key} not named`);
    }
    assert.equal(out.match(/Invalid configuration:/g)?.length, 1, 'not one message');
    assert.match(out, /unknown configuration key asterisk\.colour/);
    assert.doesNotMatch(out, /\n\s+at /, 'a stack trace');
    assert.ok(!out.includes(SECRET), 'the secret appears');
    assert.doesNotMatch(out, /listening/);
    const listening = await httpGet(port, '/health/live').catch(() => undefined);
    assert.equal(listening, undefined, 'a port was opened');
  });

  it('npm run config:check -- FILE prints the effective configuration and the problems, starting nothing', async () => {
    const file = write('Terrasoft.Messaging.Service.exe.config', EXE_CONFIG);
    const run = (f: string) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(repoRoot(), 'dist/apps/messaging-host/src/cli/config-check.js'), f],
          { env: { PATH: process.env['PATH'] ?? '' } },
          (err, stdout) => resolve({ code: err ? Number(err.code) : 0, out: stdout }),
        );
      });
    const ok = await run(file);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /"url": "10\.0\.15\.185"/);
    assert.match(ok.out, /"filePath": ""/);
    assert.match(ok.out, /"secret": "\*\*\*"/);
    assert.doesNotMatch(ok.out, /"bpm",\n\s+"originateContext"/, 'the secret shown');

    const bad = await run(write('appsettings.json', `{ ${KEYS.replace('"5038"', '"Порт"')} }`));
    assert.equal(bad.code, 78, bad.out);
    assert.match(bad.out, /asterisk\.port: .*must be an integer port .*\(value: "Порт"\)/);
  });
});
