import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { AmiClient, loadScenario, loadScenarioFile } from '@app/ami';
import { FakeAmiServer, fixturePath } from '@app/ami/testing';
import { repoRoot } from './support/service-process';

const SECRET = 'rec-s3cr3t-Zq9';
const MARKER = 'record-e2e-end';

function recordJs(): string {
  const p = join(repoRoot(), 'dist', 'apps', 'messaging-host', 'src', 'cli', 'record.js');
  if (!existsSync(p)) throw new Error(`${p} is missing: run npm run build first`);
  return p;
}

interface Run {
  child: ChildProcess;
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runRecord(args: string[], env: Record<string, string>, cwd: string): Run {
  const child = spawn(process.execPath, [recordJs(), ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      res({ code, signal });
      for (const w of waiters.splice(0)) w();
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitForOutput: (re, timeoutMs = 15_000) =>
      new Promise<void>((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`no output matching ${re} within ${timeoutMs} ms; output:\n${out}`)),
          timeoutMs,
        );
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            res();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            rej(new Error(`the recorder exited before ${re}; output:\n${out}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
}

/** Waits until `file` contains `text` (the recorder writes each chunk as it comes). */
async function waitForFileText(file: string, text: string, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(text)) return;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${file} does not contain ${text} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('npm run record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'record-e2e-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a replayed fixture until SIGINT: a scenario file with the events, no secret, that replays', async () => {
    const ami = await FakeAmiServer.start({ username: 'terrasoft', secret: SECRET });
    cleanups.push(() => ami.close());
    const configFile = join(dir, 'appsettings.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        asterisk: { url: '127.0.0.1', port: '1', userName: 'terrasoft', secret: 'not-this-one' },
        logging: { level: 'info' },
      }),
    );
    const out = join(dir, 'recorded.jsonl');
    // The file gives the user; the environment overrides port and secret, as for the service.
    const rec = runRecord(
      ['--config', configFile, '--out', out],
      { ASTERISK__PORT: String(ami.port), ASTERISK__SECRET: SECRET },
      dir,
    );
    cleanups.push(() => {
      if (rec.child.exitCode === null && rec.child.signalCode === null) rec.child.kill('SIGKILL');
    });
    await rec.waitForOutput(/recording AMI traffic/);

    const sent = await ami.replay('c_inbound_answered');
    assert.ok(sent > 10);
    ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: MARKER });
    await waitForFileText(out, MARKER);

    rec.child.kill('SIGINT');
    const { code, signal } = await rec.exited;
    assert.equal(signal, null, rec.output());
    assert.equal(code, 0, rec.output());
    assert.match(rec.output(), /wrote \d+ records/);
    await ami.waitForAction('Logoff');

    // The file: parses, has no secret anywhere (text nor bytes), and holds the traffic.
    const raw = readFileSync(out, 'utf8');
    assert.ok(!raw.includes(SECRET), 'the secret is in the file');
    const records = loadScenarioFile(out);
    const bytes = Buffer.concat(records.map((r) => Buffer.from(r.b64, 'base64'))).toString('utf8');
    assert.ok(!bytes.includes(SECRET), 'the secret is in the recorded bytes');
    assert.ok(!rec.output().includes(SECRET), 'the secret is in the log');
    const tx = records.filter((r) => r.dir === 'tx').map((r) => r.text ?? '');
    assert.match(
      tx[0]!,
      /^Action: Login\r\nActionID: \S+\r\nUsername: terrasoft\r\nSecret: \*\*\*\r\n/,
    );
    assert.match(tx.at(-1)!, /^Action: Logoff\r\n/);
    assert.equal(records[0]!.dir, 'meta');
    assert.match(records[0]!.note ?? '', /connected to 127\.0\.0\.1/);
    assert.match(records.at(-1)!.note ?? '', /recording stopped \(SIGINT\)/);
    assert.ok(records.every((r) => r.conn === 1));
    assert.ok(records.every((r, i) => r.seq === i + 1));

    const fixture = loadScenario(fixturePath('c_inbound_answered')).events.map((e) =>
      e.packet.toString(),
    );
    const recorded = loadScenario(out).events;
    // The fake server's own FullyBooted (login), the fixture's events, the marker.
    assert.equal(recorded[0]!.packet.event, 'FullyBooted');
    assert.equal(recorded.at(-1)!.packet.get('UserEvent'), MARKER);
    const middle = recorded.slice(1, -1).map((e) => e.packet.toString());
    assert.deepEqual(middle, fixture);

    // And it replays through AmiClient.
    const replay = new AmiClient({
      host: '',
      port: 1,
      username: '',
      secret: '',
      replay: { file: out, speed: 0 },
    });
    cleanups.push(() => replay.close());
    const got = firstValueFrom(replay.events$.pipe(take(recorded.length), toArray()));
    replay.start();
    assert.equal(replay.isReady, true);
    const events = await got;
    assert.deepEqual(
      events.map((e) => e.toString()),
      recorded.map((e) => e.packet.toString()),
    );
    assert.equal(events.at(-1)!.get('UserEvent'), MARKER);
  });

  it('refuses to overwrite a file without --force, and runs without --out not at all', async () => {
    const existing = join(dir, 'exists.jsonl');
    writeFileSync(existing, 'keep me\n');
    const a = runRecord(['--out', existing], { ASTERISK__PORT: '1', ASTERISK__USERNAME: 'u' }, dir);
    const ra = await a.exited;
    assert.equal(ra.code, 73, a.output());
    assert.match(a.output(), /exists; pass --force/);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me\n');

    const b = runRecord([], {}, dir);
    const rb = await b.exited;
    assert.equal(rb.code, 64, b.output());
    assert.match(b.output(), /--out FILE is required/);
    assert.match(b.output(), /Usage: npm run record/);
  });

  it('refuses a configuration in replay mode and a bad one, naming the key', async () => {
    const a = runRecord(
      ['--out', join(dir, 'never.jsonl')],
      { ASTERISK__FILEPATH: fixturePath('a2_peer_register') },
      dir,
    );
    assert.equal((await a.exited).code, 78, a.output());
    assert.match(a.output(), /asterisk\.filePath is set/);
    assert.ok(!existsSync(join(dir, 'never.jsonl')));

    const b = runRecord(['--out', join(dir, 'never2.jsonl')], { ASTERISK__PORT: 'abc' }, dir);
    assert.equal((await b.exited).code, 78, b.output());
    assert.match(b.output(), /asterisk\.port/);
  });
});
