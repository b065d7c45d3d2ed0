// Acceptance 1 of issue 13: /metrics of the whole service (fake AMI server, a real ws panel)
// moves with a replayed call (AMI events, client commands, frames, fan-out latency, calls), and
// every scrape parses with a Prometheus text parser; metrics.path, metrics.enabled and the
// optional key with the scope `metrics`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { CallState, MessagingRegistry } from '@app/messaging';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import { WsCtiClient } from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { ApiKeyConfig, type ApiScope } from '../apps/messaging-host/src/config/app-config';
import { replayFrom, replayRinging, until } from './asterisk-harness';
import { repoRoot } from './support/service-process';
import {
  histogramCount,
  rawSample,
  sample,
  scrape,
  total,
  type Scrape,
} from './support/prometheus';

const USER = '410006e1-ca4e-4502-a9ec-e54d922d2c00';

function key(name: string, secret: string, scopes: ApiScope[]): ApiKeyConfig {
  return Object.assign(new ApiKeyConfig(), {
    name,
    sha256: createHash('sha256').update(secret).digest('hex'),
    scopes,
  });
}

describe('/metrics after a replayed call', () => {
  let app: RealApp;
  let panel: WsCtiClient;
  let url: string;
  before(async () => {
    app = await startRealApp();
    url = `http://127.0.0.1:${app.port}/metrics`;
    panel = await WsCtiClient.connect(`ws://127.0.0.1:${app.port}`);
    const opened = await panel.open('305', USER);
    assert.equal(opened.eventType, 2);
  });
  after(async () => {
    await panel?.close();
    await app?.close();
  });

  const calls = (s: Scrape, state: string) => sample(s, 'messaging_host_calls', { state });

  it('moves: AMI events, client commands, frames, fan-out latency, calls', async () => {
    const before = await scrape(url);
    assert.equal(calls(before, 'alerting') + calls(before, 'connected'), 0);
    assert.equal(sample(before, 'messaging_host_ami_connected'), 1);
    assert.equal(sample(before, 'messaging_host_clients', { transport: 'websocket' }), 1);
    assert.equal(sample(before, 'messaging_host_lines_bound'), 1);
    assert.ok(
      sample(before, 'messaging_host_ami_actions_total', { action: 'Login', result: 'success' }) >=
        1,
    );
    assert.ok(
      rawSample(before, 'messaging_host_ami_action_duration_seconds_count', { action: 'Login' }) >=
        1,
    );

    // 79161234567 calls 305: the call rings on the line.
    const lib = app.app.get(MessagingRegistry).active();
    await replayRinging(app.ami);
    await until(
      () => lib.activeCalls('305').some((c) => c.state === CallState.ALERTING),
      '305 ringing',
    );
    const ringing = await scrape(url);
    assert.ok(calls(ringing, 'alerting') >= 1, 'a ringing call is counted');

    // The panel asks for its snapshot, and drops a call that does not exist (an error result).
    await panel.reply(await panel.command('QueryActiveCallSnapshot'));
    await panel.reply(await panel.callCommand('DropCall', { id: 'no-such-call' }));

    // The rest of the trace: answered, talk, the caller hangs up.
    await replayFrom(
      app.ami,
      'c_inbound_answered',
      (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up',
    );
    await until(() => lib.activeCalls('305').length === 0, 'the call to end');
    const afterCall = await scrape(url);

    const moved = (name: string, labels: Record<string, string>) =>
      sample(afterCall, name, labels) - sample(before, name, labels);
    assert.ok(moved('messaging_host_ami_events_total', { event: 'Newchannel' }) >= 2);
    assert.ok(moved('messaging_host_ami_events_total', { event: 'Hangup' }) >= 2);
    assert.ok(moved('messaging_host_events_sent_total', { event: 'RING_STARTED' }) >= 1);
    assert.ok(moved('messaging_host_events_sent_total', { event: 'COMMUTATION_STARTED' }) >= 1);
    assert.ok(moved('messaging_host_events_sent_total', { event: 'RING_FINISHED' }) >= 1);
    assert.equal(
      moved('messaging_host_client_commands_total', {
        command: 'QueryActiveCallSnapshot',
        result: 'ok',
      }),
      1,
    );
    assert.equal(
      moved('messaging_host_client_commands_total', {
        command: 'DropCall',
        result: 'NO_SUCH_CALL',
      }),
      1,
    );
    assert.ok(
      sample(afterCall, 'messaging_host_client_commands_total', {
        command: 'OpenConnection',
        result: 'ok',
      }) >= 1,
    );
    const fanBefore = histogramCount(before, 'messaging_host_fanout_latency_seconds');
    const fanAfter = histogramCount(afterCall, 'messaging_host_fanout_latency_seconds');
    assert.ok(fanAfter >= fanBefore + 3, `fan-out observations ${fanBefore} -> ${fanAfter}`);
    assert.equal(calls(afterCall, 'alerting') + calls(afterCall, 'connected'), 0, 'call ended');
  });

  it('parses as the Prometheus text format, every metric named and typed', async () => {
    const s = await scrape(url);
    for (const [name, fam] of s.families) {
      assert.match(name, /^(messaging_host_|process_|nodejs_)[a-z0-9_]+$/, name);
      assert.notEqual(fam.type, 'UNTYPED', `${name} has a TYPE`);
      assert.ok(fam.help.length > 0, `${name} has a HELP`);
    }
    for (const name of [
      'messaging_host_info',
      'messaging_host_ami_connected',
      'messaging_host_ami_events_total',
      'messaging_host_ami_actions_total',
      'messaging_host_ami_action_duration_seconds',
      'messaging_host_ami_reconnects_total',
      'messaging_host_clients',
      'messaging_host_client_commands_total',
      'messaging_host_events_sent_total',
      'messaging_host_fanout_latency_seconds',
      'messaging_host_calls',
      'messaging_host_settings_store_up',
      'messaging_host_messaging_ready',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.ok(s.families.has(name), `${name} is served`);
    }
    assert.equal(s.families.get('messaging_host_fanout_latency_seconds')!.type, 'HISTOGRAM');
    assert.equal(sample(s, 'messaging_host_settings_store_up', { driver: 'file' }), 1);
    assert.equal(sample(s, 'messaging_host_messaging_ready'), 1);
    const info = s.families.get('messaging_host_info')!.metrics[0]!.labels!;
    assert.equal(info['library'], 'asterisk');
    assert.match(info['node'] ?? '', /-\d+$/);
    // No label holds a line, a user or a number.
    for (const fam of s.families.values()) {
      for (const m of fam.metrics) {
        for (const v of Object.values(m.labels ?? {})) {
          assert.ok(!/^(305|79161234567)$/.test(v) && v !== USER, `${fam.name} label ${v}`);
        }
      }
    }
    assert.ok(total(s, 'messaging_host_ami_events_total') > 0);
  });

  it('docs/metrics.md lists exactly the messaging_host_* metrics served', async () => {
    const s = await scrape(url);
    const served = [...s.families.keys()].filter((n) => n.startsWith('messaging_host_')).sort();
    const doc = readFileSync(join(repoRoot(), 'docs', 'metrics.md'), 'utf8');
    const listed = [...doc.matchAll(/^\| `(messaging_host_[a-z_]+)`/gm)].map((m) => m[1]!).sort();
    assert.deepEqual(listed, served);
  });
});

describe('/metrics configuration', () => {
  const apps: RealApp[] = [];
  after(async () => {
    for (const a of apps) await a.close();
  });

  it('metrics.path moves it; metrics.enabled false removes it', async () => {
    const moved = await startRealApp((c) => {
      c.metrics.path = '/internal/prom';
    });
    apps.push(moved);
    const s = await scrape(`http://127.0.0.1:${moved.port}/internal/prom`);
    assert.ok(s.families.has('messaging_host_info'));
    assert.equal((await fetch(`http://127.0.0.1:${moved.port}/metrics`)).status, 404);

    const off = await startRealApp((c) => {
      c.metrics.enabled = false;
    });
    apps.push(off);
    assert.equal((await fetch(`http://127.0.0.1:${off.port}/metrics`)).status, 404);
  });

  it('metrics.requireKey asks for an API key with the scope metrics', async () => {
    const a = await startRealApp((c) => {
      c.metrics.requireKey = true;
      c.api.keys = [
        key('prometheus', 'scrape-key-1', ['metrics']),
        key('crm', 'crm-key-1', ['read', 'calls']),
      ];
    });
    apps.push(a);
    const url = `http://127.0.0.1:${a.port}/metrics`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    const wrong = await fetch(url, { headers: { Authorization: 'Bearer crm-key-1' } });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /scope this route needs: metrics/);
    const s = await scrape(url, { Authorization: 'Bearer scrape-key-1' });
    assert.ok(s.families.has('messaging_host_info'));
  });
});
