// Logs an admin can use (issue 13): the service process logs its AMI connection under AmiClient,
// the AMI traffic under AmiTraffic at debug with the secret masked, nothing of it by default, warns
// about a logging.levels key that is no category, and writes rolling files under logging.dir.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAmiServer } from '@app/ami/testing';
import { freePort, startService, type ServiceProcess } from './support/service-process';

const SECRET = 'sup3r-s3cret-pw';

interface LogLine {
  level: string;
  context?: string;
  msg?: string;
  [k: string]: unknown;
}

function lines(p: ServiceProcess): LogLine[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('logging of the service process', () => {
  const started: ServiceProcess[] = [];
  const servers: FakeAmiServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mh-logs-e2e-'));
  after(async () => {
    for (const p of started) p.kill();
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(env: Record<string, string>): Promise<ServiceProcess> {
    const ami = await FakeAmiServer.start({ username: 'admin', secret: SECRET });
    servers.push(ami);
    const p = startService({
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(ami.port),
      ASTERISK__USERNAME: 'admin',
      ASTERISK__SECRET: SECRET,
      ASTERISK__PINGINTERVALMS: '0',
      SERVER__HOST: '127.0.0.1',
      SERVER__PORT: String(await freePort()),
      SERVER__TLSPORT: '0',
      STORAGE__FILE__PATH: join(dir, `settings-${started.length}.json`),
      ...env,
    });
    started.push(p);
    await p.waitForOutput(/listening on/);
    await p.waitForOutput(/resynced/);
    return p;
  }

  it('AmiClient carries the connection; AmiTraffic at debug shows packets, the secret masked', async () => {
    const logDir = join(dir, 'logs');
    const p = await run({
      LOGGING__LEVELS__AmiTraffic: 'debug',
      LOGGING__LEVELS__Nope: 'debug',
      LOGGING__TOFILE: 'true',
      LOGGING__DIR: logDir,
    });
    await p.waitForOutput(/CoreShowChannelsComplete/);
    const all = lines(p);
    const ami = all.filter((l) => l.context === 'AmiClient');
    assert.ok(
      ami.some((l) => l.level === 'info' && /AMI: logged in to 127\.0\.0\.1/.test(l.msg ?? '')),
      JSON.stringify(ami),
    );
    const traffic = all.filter((l) => l.context === 'AmiTraffic');
    assert.ok(traffic.every((l) => l.level === 'debug'));
    const login = traffic.find((l) => /^-> Action: Login/.test(l.msg ?? ''));
    assert.ok(login, 'the Login written is logged');
    assert.match(login.msg!, /Secret: \*\*\*/);
    assert.ok(traffic.some((l) => /^<- Response: Success/.test(l.msg ?? '')));
    assert.ok(traffic.some((l) => /^<- [^]*Event: FullyBooted/.test(l.msg ?? '')));
    assert.ok(!p.output().includes(SECRET), 'the secret never reaches the log');
    assert.ok(
      all.some(
        (l) =>
          l.context === 'Main' &&
          l.level === 'warn' &&
          /'Nope' is no log category/.test(l.msg ?? ''),
      ),
    );
    // The same lines in logs/messaging-host.<n>.log, and current.log beside them.
    const files = readdirSync(logDir);
    assert.ok(files.includes('current.log'), files.join(', '));
    const file = files.find((f) => /^messaging-host\.\d+\.log$/.test(f));
    assert.ok(file, files.join(', '));
    let text = '';
    for (let i = 0; i < 50 && !text.includes('AmiTraffic'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = readFileSync(join(logDir, file), 'utf8');
    }
    assert.match(text, /"context":"AmiTraffic"/);
    assert.ok(!text.includes(SECRET));
  });

  it('shows no AMI traffic at the default levels', async () => {
    const p = await run({});
    const all = lines(p);
    assert.ok(all.some((l) => l.context === 'AmiClient'));
    assert.equal(all.filter((l) => l.context === 'AmiTraffic').length, 0);
    assert.equal(all.filter((l) => l.level === 'debug').length, 0);
  });
});
