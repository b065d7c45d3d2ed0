/**
 * Soak benchmark (`npm run bench:soak -- [--minutes N] [--rate N]`): memory of the service over
 * time under always-unique calls. One service process (node dist/.../main.js, its own config, a
 * file settings store, inspector on) is fed by the soak PBX (soak-pbx.ts: calls from the recorded
 * traces, unique ids, reacting to the service's actions) at `--rate` calls/s for `--minutes`, with
 * a panel on every operator line (ws and SignalR; some reconnect every few seconds), REST
 * requests and every call saved in a CRM (soak-crm.ts) through the service's outbox. Every `--sample` seconds: heap after a full GC, RSS, handles, event-loop delay and the
 * service's internal sizes. At the end the calls drain, the panels leave, and a RESULT line gives
 * calls, events, heap at warm-up and at the end, growth per 1,000 calls, RSS growth, p99 event-loop
 * delay and every internal size, compared with what the idle service held before the first call.
 *
 * Options: --minutes 10  --rate 50  --speed 1 (recorded pace x speed)  --sample 30 (s)
 *          --lines N (operator lines; default rate x 40)  --snapshots DIR (warm-up and end .heapsnapshot)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeAmiServer } from '@app/ami/testing';
import { instanceOf, loadTemplates } from './soak-corpus';
import { newPanelStats, openPanels, type Panel } from './soak-panels';
import { newPbxStats, queueMembers, SoakPbx } from './soak-pbx';
import { InspectorProbe, type ProbeSample } from './soak-probe';
import { SoakCrm } from './soak-crm';
import { SoakRest } from './soak-rest';
import { positiveOption } from '../bench-args';

interface Options {
  minutes: number;
  rate: number;
  speed: number;
  sample: number;
  lines: number;
  snapshots: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string, def: number): number => positiveOption(argv, name, def);
  const known = new Set(['minutes', 'rate', 'speed', 'sample', 'lines', 'snapshots']);
  for (const a of argv) {
    if (a.startsWith('--') && !known.has(a.slice(2))) {
      throw new Error(`unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(' ')})`);
    }
  }
  const rate = get('rate', 50);
  const s = argv.indexOf('--snapshots');
  return {
    minutes: get('minutes', 10),
    rate,
    speed: get('speed', 1),
    sample: get('sample', 30),
    lines: Math.floor(get('lines', Math.max(100, Math.ceil(rate * 40)))),
    snapshots: s >= 0 ? argv[s + 1] : undefined,
  };
}

const AMI_USER = 'soak';
const AMI_SECRET = randomBytes(12).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MiB = (b: number): string => (b / 1048576).toFixed(2);

function root(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'apps'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the repository root');
}

interface Service {
  child: ChildProcess;
  port: number;
  inspector: string;
  log: string[];
}

/** Starts the service with its own config; resolves with its HTTP port and inspector URL. */
function startService(mainJs: string, configFile: string): Promise<Service> {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', mainJs, '--config', configFile], {
    cwd: root(),
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  let port: number | undefined;
  let inspector: string | undefined;
  const keep = (text: string): void => {
    for (const line of text.split('\n')) {
      if (!line) continue;
      log.push(line);
      if (log.length > 200) log.shift();
    }
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`the service was not ready within 60 s:\n${log.join('\n')}`));
    }, 60_000);
    const check = (): void => {
      if (port !== undefined && inspector !== undefined) {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        res({ child, port, inspector, log });
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      keep(text);
      const m = /listening on [^"\s]+:(\d+)/.exec(text);
      if (m && port === undefined) {
        port = Number(m[1]);
        check();
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      keep(text);
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (m && inspector === undefined) {
        inspector = m[1];
        check();
      }
    });
    const onExit = (code: number | null): void =>
      rej(new Error(`the service exited (${code}) before it was ready:\n${log.join('\n')}`));
    child.once('exit', onExit);
  });
}

type Sizes = Record<string, number>;

/** Sizes kept per line (at most one per operator line), not per call: compared with the lines. */
const PER_LINE = new Set(['queueLines', 'queueMembers', 'agentLines']);

/** The flat internal sizes the service reports (library and gateway; process numbers left out). */
async function readSizes(rest: SoakRest): Promise<Sizes> {
  const d = (await rest.diagnostics()) as {
    sizes: Record<string, number>;
    gateway: Record<string, number>;
    crm?: Record<string, number>;
  };
  const out: Sizes = {};
  for (const [k, v] of Object.entries(d.sizes)) out[k] = v;
  for (const [k, v] of Object.entries(d.gateway)) out[`gateway.${k}`] = v;
  for (const [k, v] of Object.entries(d.crm ?? {})) out[`crm.${k}`] = v;
  return out;
}

const fmtSizes = (s: Sizes): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

interface Row {
  min: number;
  calls: number;
  s: ProbeSample;
}

function slopePerHour(rows: readonly Row[]): number {
  if (rows.length < 2) return 0;
  const xs = rows.map((r) => r.min / 60);
  const ys = rows.map((r) => r.s.heapUsed);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const base = root();
  const mainJs = join(base, 'dist', 'apps', 'messaging-host', 'src', 'main.js');
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: npm run build`);
  const warmMin = Math.min(10, opts.minutes / 5);
  const tmp = mkdtempSync(join(tmpdir(), 'soak-'));
  const apiKey = randomBytes(24).toString('hex');
  const ami = await FakeAmiServer.start({ username: AMI_USER, secret: AMI_SECRET });
  const crm = await SoakCrm.start();
  const lines = Array.from({ length: opts.lines }, (_, i) => String(10_000 + i));
  ami.setList('QueueStatus', queueMembers(lines));
  const config = {
    asterisk: {
      url: '127.0.0.1',
      port: ami.port,
      userName: AMI_USER,
      secret: AMI_SECRET,
      autoPauseOnCommutationStart: true,
      asyncOriginate: true,
    },
    server: { host: '127.0.0.1', port: 0 },
    // Every panel connects from 127.0.0.1, as behind a proxy: no per-address cap (limits.md).
    limits: { maxConnectionsPerAddress: 0 },
    // Every call of the lines the panels hold is saved in the CRM, through the outbox.
    crm: { serviceUrl: crm.url, saveCalls: true },
    api: {
      enabled: true,
      keys: [
        {
          name: 'soak',
          sha256: createHash('sha256').update(apiKey).digest('hex'),
          scopes: ['read', 'calls', 'settings'],
        },
      ],
      rateLimit: { limit: 1_000_000, ttlMs: 60_000 },
    },
    storage: { driver: 'file', file: { path: join(tmp, 'settings.json') } },
    logging: {
      level: 'info',
      levels: {
        ClientSession: 'warn',
        ClientSocket: 'warn',
        LineHub: 'warn',
        RestApi: 'warn',
        AsteriskLibrary: 'warn',
        ClientGateway: 'warn',
        CrmCalls: 'warn',
      },
    },
  };
  const configFile = join(tmp, 'soak.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  let service: Service | undefined;
  let probe: InspectorProbe | undefined;
  let panels = new Map<string, Panel>();
  try {
    service = await startService(mainJs, configFile);
    const rest = new SoakRest(service.port, apiKey);
    const t0ready = Date.now();
    while (!(await rest.ready())) {
      if (Date.now() - t0ready > 30_000)
        throw new Error('the service did not become ready (AMI login)');
      await sleep(200);
    }
    probe = await InspectorProbe.connect(service.inspector);
    const idle = await readSizes(rest);
    const idleSample = await probe.sample();
    process.stdout.write(
      `soak: ${opts.rate} calls/s for ${opts.minutes} min (recorded pace x${opts.speed}), ${opts.lines} operator lines, sample every ${opts.sample} s, warm-up ${warmMin} min\n` +
        `idle service: heap ${MiB(idleSample.heapUsed)} MiB, RSS ${MiB(idleSample.rss)} MiB; sizes ${fmtSizes(idle)}\n`,
    );

    // Panels on every operator line.
    const pstats = newPanelStats();
    const tp = Date.now();
    panels = await openPanels(lines, service.port, pstats);
    const withPanels = await probe.sample();
    process.stdout.write(
      `${panels.size} panels open in ${((Date.now() - tp) / 1000).toFixed(1)} s (${[...panels.values()].filter((p) => p.transport === 'ws').length} ws, the rest SignalR 3.1 and current): heap ${MiB(withPanels.heapUsed)} MiB, RSS ${MiB(withPanels.rss)} MiB\n`,
    );

    const stats = newPbxStats();
    const pbx = new SoakPbx(ami, panels, stats, opts.speed);
    const templates = loadTemplates();
    const free = [...lines];
    let k = 0;
    let skipped = 0;
    const active = new Set<Promise<void>>();
    const durationMs = opts.minutes * 60_000;
    const t0 = Date.now();
    let stop = false;

    // REST: lines, calls, settings, at about 5 requests/s.
    const restLoop = (async () => {
      let i = 0;
      while (!stop) {
        await sleep(200);
        const line = lines[(Math.floor(i / 6) * 7919) % lines.length]!; // six requests a line
        await rest.mixed(i++, line).catch((err: unknown) => rest.fail(err));
      }
    })();

    // Reconnects: every 5 s, 1% of the panels (half of them drop the socket, half close it).
    const reconnectLoop = (async () => {
      let round = 0;
      while (!stop) {
        await sleep(5000);
        if (stop) break;
        const n = Math.max(1, Math.floor(panels.size / 100));
        const chosen = Array.from(
          { length: n },
          (_, j) => lines[(round * 104729 + j * 7907) % lines.length]!,
        );
        round += 1;
        await Promise.all(
          chosen.map((l, j) =>
            panels
              .get(l)!
              .reconnect(j % 2 === 0)
              .catch((err: unknown) => {
                pstats.errors += 1;
                pstats.errorKinds.set(`reconnect: ${String(err).slice(0, 60)}`, 1);
              }),
          ),
        );
      }
    })();

    // Samples.
    const rows: Row[] = [];
    let warm: Row | undefined;
    const sampleLoop = (async () => {
      let next = t0 + opts.sample * 1000;
      while (!stop) {
        await sleep(Math.max(0, next - Date.now()));
        if (stop) break;
        next += opts.sample * 1000;
        const s = await probe!.sample();
        const min = (Date.now() - t0) / 60_000;
        const row = { min, calls: stats.calls, s };
        rows.push(row);
        if (!warm && min >= warmMin - 0.01) {
          warm = row;
          if (opts.snapshots) {
            mkdirSync(opts.snapshots, { recursive: true });
            await probe!.snapshot(join(opts.snapshots, 'warm.heapsnapshot'));
          }
        }
        const sizes = await readSizes(rest).catch(() => ({}) as Sizes);
        process.stdout.write(
          `  ${min.toFixed(1).padStart(5)} min  calls ${String(stats.calls).padStart(7)} (${(stats.calls / ((Date.now() - t0) / 1000)).toFixed(1)}/s, ${active.size} up)  heap ${MiB(s.heapUsed)} MiB  RSS ${MiB(s.rss)} MiB  handles ${s.handles}  eld p99 ${s.eldP99.toFixed(1)} ms max ${s.eldMax.toFixed(0)} ms  | ${fmtSizes(sizes)}\n`,
        );
      }
    })();

    // Calls at `rate` per second, each on two free operator lines.
    while (Date.now() - t0 < durationMs) {
      const due = Math.floor(((Date.now() - t0) * opts.rate) / 1000);
      while (k < due) {
        if (free.length < 2) {
          skipped += 1;
          k += 1;
          continue;
        }
        const lineA = free.shift()!;
        const lineB = free.shift()!;
        const inst = instanceOf(templates[k % templates.length]!, { k: k + 1, lineA, lineB });
        k += 1;
        const p: Promise<void> = pbx
          .play(inst)
          .catch((err: unknown) => {
            process.stderr.write(`call ${inst.ids.k}: ${String(err)}\n`);
          })
          .finally(() => {
            active.delete(p);
            // The line is free once its last event has been handled; its panel starts afresh.
            setTimeout(() => {
              panels.get(lineA)?.forgetCalls();
              panels.get(lineB)?.forgetCalls();
              free.push(lineA, lineB);
            }, 2000);
          });
        active.add(p);
      }
      await sleep(20);
    }
    const genSeconds = (Date.now() - t0) / 1000;
    stop = true;
    await Promise.all([restLoop, reconnectLoop, sampleLoop]);
    process.stdout.write(
      `generator stopped: ${active.size} calls still up; waiting for them to end\n`,
    );
    await Promise.all([...active]);
    await sleep(3000);
    const drained = await readSizes(rest);
    const drainedSample = await probe.sample();
    process.stdout.write(
      `all calls ended (panels still open): heap ${MiB(drainedSample.heapUsed)} MiB; sizes ${fmtSizes(drained)}\n`,
    );
    await Promise.all([...panels.values()].map((p) => p.close(false)));
    const tc = Date.now();
    let final = await readSizes(rest);
    while ((final['gateway.sockets'] ?? 0) > 0 && Date.now() - tc < 15_000) {
      await sleep(250);
      final = await readSizes(rest);
    }
    const end = await probe.sample();
    if (opts.snapshots) await probe.snapshot(join(opts.snapshots, 'end.heapsnapshot'));
    const endRow: Row = { min: (Date.now() - t0) / 60_000, calls: stats.calls, s: end };
    const w = warm ?? rows[0] ?? endRow;

    // Heap series.
    process.stdout.write(
      `heap series (MiB after GC, every ${opts.sample} s): ${rows.map((r) => MiB(r.s.heapUsed)).join(' ')} | end ${MiB(end.heapUsed)}\n`,
    );
    const afterWarm = rows.filter((r) => r.min >= w.min);
    const trend = slopePerHour(afterWarm);
    const heapsAfter = afterWarm.map((r) => r.s.heapUsed);
    const spread = heapsAfter.length ? Math.max(...heapsAfter) - Math.min(...heapsAfter) : 0;
    const last = rows.at(-1) ?? endRow;
    const growth = last.s.heapUsed - w.s.heapUsed;
    const callsAfterWarm = last.calls - w.calls;
    const kept = end.heapUsed - idleSample.heapUsed;
    // Per-line state (queue members, agent states kept) is bounded by the lines, not by the calls.
    const notIdle = Object.entries(final).filter(([key, v]) =>
      PER_LINE.has(key) ? v > opts.lines : v > (idle[key] ?? 0),
    );
    const eldP99 = rows.length ? Math.max(...rows.map((r) => r.s.eldP99)) : 0;
    const missed =
      [...stats.actionsMissed.entries()].map(([a, n]) => `${a}=${n}`).join(',') || 'none';
    const list = (m: Map<string, number>): string =>
      [...m.entries()].map(([a, n]) => `${a}=${n}`).join(',') || 'none';
    const stray = list(stats.actionsStray);
    process.stdout.write(
      `panels: ${pstats.opens} opens (${pstats.reconnects} reconnects), ${pstats.frames} frames, ${pstats.commands} commands, ${pstats.errors} errors${
        pstats.errorKinds.size
          ? ` (${[...pstats.errorKinds.entries()]
              .sort((a, b) => b[1] - a[1])
              .slice(0, 8)
              .map(([m, n]) => `${n}x ${m}`)
              .join('; ')})`
          : ''
      }\n` +
        `CRM: ${crm.updates} UpdateCall, ${crm.logins} LogInMsgServer, ${crm.other} other requests; ` +
        `actions seen ${[...stats.actionsSeen.entries()].map(([a, n]) => `${a}=${n}`).join(',')}; not sent after the panel's command ${missed}; no panel or call to ask ${list(stats.actionsNoPanel)}; left to the PBX ${list(stats.actionsPbxSide)}; stray ${stray}; REST ${rest.summary()}\n`,
    );
    process.stdout.write(
      `RESULT soak: ${opts.minutes} min, rate ${opts.rate}/s asked, ${(stats.calls / genSeconds).toFixed(1)} calls/s actual${skipped ? ` (${skipped} skipped: no free line)` : ''}; ` +
        `calls ${stats.calls}, events ${stats.events} (${stats.packets} AMI packets); ` +
        `heap after GC: idle ${MiB(idleSample.heapUsed)}, warm-up ${MiB(w.s.heapUsed)} MiB (${w.min.toFixed(1)} min), last under load ${MiB(last.s.heapUsed)} MiB (${last.min.toFixed(1)} min), end ${MiB(end.heapUsed)} MiB (calls over, panels gone); ` +
        `growth under load ${growth >= 0 ? '+' : ''}${MiB(growth)} MiB = ${callsAfterWarm > 0 ? ((growth / 1024 / callsAfterWarm) * 1000).toFixed(2) : 'n/a'} KiB per 1,000 calls, trend ${(trend / 1048576).toFixed(2)} MiB/h, spread ${MiB(spread)} MiB after warm-up; kept at the end over idle ${kept >= 0 ? '+' : ''}${MiB(kept)} MiB; ` +
        `RSS ${MiB(w.s.rss)} -> ${MiB(last.s.rss)} MiB under load (${last.s.rss >= w.s.rss ? '+' : ''}${MiB(last.s.rss - w.s.rss)}), ${MiB(end.rss)} at the end${opts.snapshots ? ' (heap snapshots taken: RSS includes their cost)' : ''}; ` +
        `event-loop delay p99 ${end.eldP99All.toFixed(1)} ms (worst 30 s window ${eldP99.toFixed(1)} ms); handles ${idleSample.handles} idle -> ${end.handles} end; ` +
        `sizes at end: ${fmtSizes(final)} -> ${notIdle.length === 0 ? `back to idle (per line, at most ${opts.lines}: ${[...PER_LINE].join(', ')})` : `NOT idle: ${notIdle.map(([key, v]) => `${key} ${idle[key] ?? 0}->${v}`).join(', ')}`}\n`,
    );
    if (notIdle.length > 0) process.exitCode = 2;
  } finally {
    for (const p of panels.values()) await p.close(true).catch(() => undefined);
    probe?.close();
    if (service) {
      const c = service.child;
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await Promise.race([new Promise((r) => c.once('exit', r)), sleep(8000)]);
        if (c.exitCode === null) c.kill('SIGKILL');
      }
    }
    await ami.close();
    await crm.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
