import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { FakeAmiTimers, fixtureNames, fixturePath, readTrace } from '@app/ami/testing';
import {
  AmiScenarioPlayer,
  decodeScenario,
  isBroadcastEvent,
  loadScenario,
  type AmiScenario,
} from './ami-replay';
import { loadScenarioFile, parseScenario } from './ami-scenario';
import { AmiClient } from './ami-client';
import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiLogger } from './ami-logger';
import { AmiDecoder, type AmiPacket } from './protocol';

const dir = mkdtempSync(join(tmpdir(), 'ami-replay-'));
const clients: AmiClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

function writeScenario(name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function memoryLogger(): AmiLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Plays `scenario` on fake timers until it ends (or `max` events came), returning each event
 * with the fake time (ms since start) it was emitted at.
 */
async function playOnFakeTime(
  scenario: AmiScenario,
  opts: { speed?: number; loop?: boolean; max?: number } = {},
): Promise<{ events: { ms: number; packet: AmiPacket }[]; ended: boolean; timers: FakeAmiTimers }> {
  const timers = new FakeAmiTimers();
  const t0 = timers.now();
  const events: { ms: number; packet: AmiPacket }[] = [];
  let ended = false;
  const player = new AmiScenarioPlayer({
    scenario,
    speed: opts.speed,
    loop: opts.loop,
    timers,
    onEvent: (packet) => events.push({ ms: timers.now() - t0, packet }),
    onEnd: () => (ended = true),
  });
  player.start();
  const max = opts.max ?? Infinity;
  while (!ended && events.length < max) {
    await flush();
    const due = timers.nextDue();
    if (due === undefined) {
      if (!player.isRunning) break;
      continue;
    }
    timers.tick(due);
  }
  player.stop();
  return { events, ended, timers };
}

/** What a client of the recorded connection was shown: the broadcast events of every rx chunk. */
function broadcastEvents(name: string): { t: number; packet: AmiPacket }[] {
  const out: { t: number; packet: AmiPacket }[] = [];
  let decoder: AmiDecoder | undefined;
  let conn = -1;
  let t = 0;
  for (const rec of readTrace(name)) {
    if (rec.dir !== 'rx') continue;
    if (rec.conn !== conn) {
      conn = rec.conn;
      decoder = new AmiDecoder(
        {
          onPacket: (p) => {
            if (isBroadcastEvent(p)) out.push({ t, packet: p });
          },
          onError: (e) => {
            throw e;
          },
        },
        { expectBanner: true },
      );
    }
    t = rec.t;
    decoder!.push(Buffer.from(rec.b64, 'base64'));
  }
  return out;
}

describe('scenario files', () => {
  it('reads every fixture trace', () => {
    const names = fixtureNames();
    assert.ok(names.length >= 15, names.join(','));
    for (const name of names) {
      const records = readTrace(name);
      assert.ok(records.length > 0, name);
      for (const r of records) assert.equal(r.len, Buffer.from(r.b64, 'base64').length);
      const scenario = loadScenario(fixturePath(name));
      assert.equal(scenario.serverVersion, '9.0.0', name);
    }
  });

  it('keeps the broadcast events only: no list items, no responses; OriginateResponse kept', () => {
    const a1 = loadScenario(fixturePath('a1_idle_login_status'));
    assert.deepEqual(
      a1.events.map((e) => e.packet.event),
      broadcastEvents('a1_idle_login_status').map((e) => e.packet.event),
    );
    assert.ok(a1.events.every((e) => e.packet.actionId === undefined));
    assert.ok(!a1.events.some((e) => e.packet.event === 'PeerEntry'));
    const b3 = loadScenario(fixturePath('b3_originate_noanswer'));
    const or = b3.events.find((e) => e.packet.event === 'OriginateResponse');
    assert.equal(or?.packet.get('Response'), 'Failure');
    assert.equal(or?.packet.get('Uniqueid'), '<unknown>');
  });

  it('accepts hand-written text records, comments and blank lines', () => {
    const file = writeScenario('hand.jsonl', [
      '\uFEFF# a hand-written scenario, with a BOM and a CRLF line end\r',
      '',
      '// the banner, then an incoming call',
      '{"dir":"rx","t":100,"text":"Asterisk Call Manager/9.0.0\\r\\n"}',
      '{"dir":"rx","t":100.5,"text":"Event: Newchannel\\r\\nChannel: SIP/305-00000001\\r\\n\\r\\n"}',
      '{"dir":"meta","note":"no t: same time as the record before"}',
      '{"dir":"rx","t":102,"text":"Event: Hangup\\nChannel: SIP/305-00000001\\nCause: 16\\n\\n"}',
    ]);
    const records = loadScenarioFile(file);
    assert.deepEqual(
      records.map((r) => [r.seq, r.conn, r.dir, r.t, r.line]),
      [
        [1, 1, 'rx', 100, 4],
        [2, 1, 'rx', 100.5, 5],
        [3, 1, 'meta', 100.5, 6],
        [4, 1, 'rx', 102, 7],
      ],
    );
    const scenario = loadScenario(file);
    assert.equal(scenario.serverVersion, '9.0.0');
    assert.deepEqual(
      scenario.events.map((e) => [e.at, e.packet.event, e.packet.get('Channel')]),
      [
        [0.5, 'Newchannel', 'SIP/305-00000001'],
        [2, 'Hangup', 'SIP/305-00000001'],
      ],
    );
  });

  it('plays the hand-written example of docs/scenario-format.md', () => {
    let root = __dirname;
    while (!existsSync(join(root, 'docs', 'scenario-format.md'))) {
      const up = resolve(root, '..');
      assert.notEqual(up, root, `docs/scenario-format.md not found above ${__dirname}`);
      root = up;
    }
    const doc = readFileSync(join(root, 'docs', 'scenario-format.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Hand-written scenarios'));
    const example = /```\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(example, 'no example block under "Hand-written scenarios"');
    const file = writeScenario('doc-example.jsonl', example.trimEnd().split('\n'));
    const scenario = loadScenario(file);
    assert.deepEqual(
      scenario.events.map((e) => [e.at, e.packet.event, e.packet.get('Uniqueid')]),
      [
        [0.1, 'Newchannel', '1.1'],
        [3.1, 'Hangup', '1.1'],
      ],
    );
  });

  for (const [what, lines, message] of [
    [
      'a line that is not JSON',
      ['{"dir":"rx","t":1,"text":"Event: A\\r\\n\\r\\n"}', '{"dir":"rx",'],
      /:2: not a JSON object/,
    ],
    ['an array', ['[1,2]'], /:1: not a JSON object/],
    ['a bad dir', ['{"dir":"in","t":1,"text":"x"}'], /:1: "dir" must be "rx", "tx" or "meta"/],
    ['a bad t', ['{"dir":"rx","t":"soon","text":"x"}'], /:1: "t" must be a number/],
    [
      'time going back',
      ['{"dir":"meta","t":5}', '', '{"dir":"meta","t":4}'],
      /:3: "t" goes back in time/,
    ],
    ['bad base64', ['{"dir":"rx","t":1,"b64":"***"}'], /:1: "b64" is not valid base64/],
    [
      'a len that does not match',
      ['{"dir":"rx","t":1,"len":3,"b64":"QUJDRA=="}'],
      /:1: "len" is 3 but "b64" holds 4 bytes/,
    ],
    ['an rx without bytes', ['{"dir":"rx","t":1}'], /:1: an rx record needs "b64" or "text"/],
    ['a bad conn', ['{"dir":"rx","t":1,"conn":"x","text":"x"}'], /:1: "conn" must be an integer/],
    [
      'a peer that is not AMI',
      ['{"dir":"meta","t":1}', '{"dir":"rx","t":1,"text":"SSH-2.0-OpenSSH_9.2\\r\\n"}'],
      /:2 \(seq 2\): .*not an AMI server/,
    ],
  ] as const) {
    it(`refuses ${what} with AMI_SCENARIO naming the file and line`, () => {
      const file = writeScenario(`bad-${what.replace(/\W+/g, '-')}.jsonl`, lines);
      assert.throws(
        () => loadScenario(file),
        (e: unknown) => {
          assert.ok(e instanceof AmiError, String(e));
          assert.equal(e.code, AmiErrorCode.Scenario);
          assert.ok(e.message.startsWith(`${file}:`), e.message);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  it('refuses a packet over maxPacketBytes, naming the line', () => {
    const big = 'Event: Big\\r\\nData: ' + 'x'.repeat(3000) + '\\r\\n\\r\\n';
    const file = writeScenario('big.jsonl', ['', `{"dir":"rx","t":1,"text":"${big}"}`]);
    assert.throws(
      () => loadScenario(file, 1024),
      (e: unknown) =>
        e instanceof AmiError &&
        e.code === AmiErrorCode.Scenario &&
        e.message.startsWith(`${file}:2 `),
    );
  });

  it('refuses a file that cannot be read, naming it', () => {
    const file = join(dir, 'missing.jsonl');
    assert.throws(
      () => loadScenarioFile(file),
      (e: unknown) =>
        e instanceof AmiError && e.code === AmiErrorCode.Scenario && e.message.includes(file),
    );
  });

  it('parses text given directly, naming the source in errors', () => {
    assert.equal(parseScenario('\n# nothing\n').length, 0);
    assert.throws(() => parseScenario('{', 'inline'), /^AmiError|inline:1/);
  });
});

describe('AmiScenarioPlayer', () => {
  const scenario = loadScenario(fixturePath('c_inbound_answered'));
  const expected = broadcastEvents('c_inbound_answered');
  const first = expected[0]!.t;

  it('plays at the recorded pace: each event at its recorded offset from the first', async () => {
    const { events, ended } = await playOnFakeTime(scenario, { speed: 1 });
    assert.equal(ended, true);
    assert.equal(events.length, expected.length);
    assert.ok(expected.at(-1)!.t - first > 5, 'the call lasts several seconds');
    events.forEach((e, i) => {
      assert.equal(e.packet.toString(), expected[i]!.packet.toString());
      assert.ok(Math.abs(e.ms - (expected[i]!.t - first) * 1000) < 0.01, `event ${i}: ${e.ms} ms`);
    });
  });

  it('plays a speed factor times faster', async () => {
    const { events } = await playOnFakeTime(scenario, { speed: 4 });
    assert.equal(events.length, expected.length);
    events.forEach((e, i) => {
      assert.ok(Math.abs(e.ms - ((expected[i]!.t - first) * 1000) / 4) < 0.01, `event ${i}`);
    });
  });

  it('with speed 0 plays everything at once, in order, setting no timer', async () => {
    const { events, timers } = await playOnFakeTime(scenario, { speed: 0 });
    assert.equal(events.length, expected.length);
    assert.ok(events.every((e) => e.ms === 0));
    assert.deepEqual(timers.requested, []);
    assert.deepEqual(
      events.map((e) => e.packet.event),
      expected.map((e) => e.packet.event),
    );
  });

  it('loops: after the last event the scenario starts again at the same pace', async () => {
    const n = expected.length;
    const { events, ended } = await playOnFakeTime(scenario, {
      speed: 2,
      loop: true,
      max: 2 * n + 3,
    });
    assert.equal(ended, false);
    assert.ok(events.length >= 2 * n + 3, `${events.length} events`);
    const round = events[n - 1]!.ms;
    for (let i = 0; i < n + 3; i++) {
      const a = events[i % n]!;
      const b = events[n + i]!;
      assert.equal(b.packet.toString(), a.packet.toString());
      const offset = i < n ? round : 2 * round;
      assert.ok(
        Math.abs(b.ms - (a.ms + offset)) < 0.01,
        `event ${n + i}: ${b.ms} vs ${a.ms + offset}`,
      );
    }
  });

  it('stops emitting on stop()', async () => {
    const timers = new FakeAmiTimers();
    const got: AmiPacket[] = [];
    const player = new AmiScenarioPlayer({ scenario, timers, onEvent: (p) => got.push(p) });
    player.start();
    await flush();
    const before = got.length;
    player.stop();
    timers.tick(60_000);
    await flush();
    assert.equal(got.length, before);
    assert.equal(player.isRunning, false);
    assert.throws(
      () => new AmiScenarioPlayer({ scenario, speed: -1, onEvent: () => undefined }),
      RangeError,
    );
  });
});

describe('AmiClient in replay mode', () => {
  it('reports ready at once, streams the scenario’s events, and contacts nobody', async () => {
    const file = fixturePath('c_inbound_answered');
    const expected = decodeScenario(readTrace('c_inbound_answered'), file).events.map((e) =>
      e.packet.toString(),
    );
    const c = new AmiClient({
      host: '127.0.0.1',
      port: 1, // never contacted
      username: '',
      secret: '',
      replay: { file, speed: 0 },
    });
    clients.push(c);
    assert.equal(c.replaying, true);
    assert.equal(c.address, file);
    const got = firstValueFrom(c.events$.pipe(take(expected.length), toArray()));
    c.start();
    assert.equal(c.isReady, true);
    assert.equal(c.status.serverVersion, '9.0.0');
    assert.match(c.status.reason ?? '', /replaying/);
    assert.deepEqual(
      (await got).map((p) => p.toString()),
      expected,
    );
  });

  it('plays on the injected timers at the given speed', async () => {
    const timers = new FakeAmiTimers();
    const t0 = timers.now();
    const c = new AmiClient({
      host: '',
      port: 5038,
      username: '',
      secret: '',
      timers,
      replay: { file: fixturePath('d_inbound_missed'), speed: 3 },
    });
    clients.push(c);
    const expected = broadcastEvents('d_inbound_missed');
    const times: number[] = [];
    c.events$.subscribe(() => times.push(timers.now() - t0));
    c.start();
    while (times.length < expected.length) {
      await flush();
      const due = timers.nextDue();
      if (due !== undefined) timers.tick(due);
    }
    times.forEach((ms, i) =>
      assert.ok(Math.abs(ms - ((expected[i]!.t - expected[0]!.t) * 1000) / 3) < 0.01, `event ${i}`),
    );
  });

  it('answers actions locally and logs them (field names only), sending nothing', async () => {
    const logger = memoryLogger();
    const c = new AmiClient({
      host: '127.0.0.1',
      port: 1,
      username: '',
      secret: '',
      logger,
      replay: { file: fixturePath('a2_peer_register'), speed: 0 },
    });
    clients.push(c);
    c.start();
    const ping = await c.action({ Action: 'Ping' });
    assert.equal(ping.response, 'Success');
    const list = await c.list({ Action: 'CoreShowChannels' });
    assert.deepEqual(list.items, []);
    assert.equal(list.complete.event, 'CoreShowChannelsComplete');
    assert.equal(list.complete.get('EventList'), 'Complete');
    const orig = await c.originate({
      Action: 'Originate',
      Channel: 'SIP/305',
      Context: 'from-internal',
      Exten: '79161234567',
      Async: 'yes',
    });
    assert.equal(orig.response.get('Message'), 'Originate successfully queued');
    assert.equal(orig.originateResponse?.get('Response'), 'Success');
    const sync = await c.originate({ Action: 'Originate', Channel: 'SIP/305', Exten: '600' });
    assert.equal(sync.originateResponse, undefined);

    const logged = logger.lines.filter((l) => /not sent \(replay mode\)/.test(l.msg ?? ''));
    assert.deepEqual(
      logged.map((l) => (l.obj as { action: string }).action),
      ['Ping', 'CoreShowChannels', 'Originate', 'Originate'],
    );
    assert.ok(!JSON.stringify(logger.lines).includes('79161234567'), 'values are not logged');
  });

  it('fails start() with AMI_SCENARIO naming file and line, and reports why it is not ready', () => {
    const file = writeScenario('client-bad.jsonl', [
      '{"dir":"rx","t":1,"text":"Event: A\\r\\n\\r\\n"}',
      'oops',
    ]);
    const c = new AmiClient({ host: '', port: 1, username: '', secret: '', replay: { file } });
    clients.push(c);
    assert.throws(
      () => c.start(),
      (e: unknown) =>
        e instanceof AmiError &&
        e.code === AmiErrorCode.Scenario &&
        e.message.startsWith(`${file}:2:`),
    );
    assert.equal(c.isReady, false);
    assert.equal(c.status.state, 'disconnected');
    assert.match(c.status.reason ?? '', /client-bad\.jsonl:2/);
  });

  it('streams the events of a replayed scenario to events$ while looping', async () => {
    const c = new AmiClient({
      host: '',
      port: 1,
      username: '',
      secret: '',
      replay: { file: fixturePath('a2_peer_register'), speed: 0, loop: true },
    });
    clients.push(c);
    const perRound = loadScenario(fixturePath('a2_peer_register')).events.length;
    const got = firstValueFrom(
      c.events$.pipe(
        filter((e) => e.event !== undefined),
        take(perRound * 3),
        toArray(),
      ),
    );
    c.start();
    const events = await got;
    assert.deepEqual(
      events.slice(perRound, 2 * perRound).map((e) => e.toString()),
      events.slice(0, perRound).map((e) => e.toString()),
    );
    await c.close();
    assert.equal(c.status.state, 'closed');
  });
});
