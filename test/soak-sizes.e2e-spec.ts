/**
 * Memory over days (issue 16), the regression side of `npm run bench:soak`: the real service plays
 * always-unique calls of every recorded kind (inbound answered and missed, queue with auto-pause,
 * park and take-back, blind and attended transfer, originate) commanded by panels over ws and
 * SignalR that reconnect between rounds; once the calls are over and the panels gone, every
 * internal size the service reports is back to what the idle service held. No timing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { MessagingRegistry } from '@app/messaging';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import { instanceOf, loadTemplates, SOAK_TRACES } from '../bench/soak/soak-corpus';
import { newPanelStats, openPanels, type Panel } from '../bench/soak/soak-panels';
import { newPbxStats, queueMembers, SoakPbx } from '../bench/soak/soak-pbx';

const LINES = Array.from({ length: 16 }, (_, i) => String(20_000 + i));
const ROUNDS = 4;

/** Per-line state (at most one per line): the agent states the store keeps. */
const PER_LINE = new Set(['agentLines']);

/** Keys whose value differs from the idle one (per-line ones: above the number of lines). */
function notIdle(
  now: Record<string, number>,
  idle: Record<string, number>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of new Set([...Object.keys(now), ...Object.keys(idle)])) {
    const bad = PER_LINE.has(k) ? (now[k] ?? 0) > LINES.length : (now[k] ?? 0) !== (idle[k] ?? 0);
    if (bad) out[k] = `${idle[k] ?? 0} -> ${now[k] ?? 0}`;
  }
  return out;
}

describe('memory: internal sizes back to idle after unique calls (issue 16)', () => {
  let t: RealApp;
  let panels = new Map<string, Panel>();

  before(async () => {
    t = await startRealApp((c) => {
      c.asterisk.autoPauseOnCommutationStart = true;
      c.asterisk.asyncOriginate = true;
    });
    t.ami.setList('QueueStatus', queueMembers(LINES));
    // The queue's members as the resync reads them: drop the connection so that it resyncs.
    t.ami.dropAll();
    const registry = t.app.get(MessagingRegistry);
    while (!registry.active().readiness().ready || t.ami.loggedIn.length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  after(async () => {
    for (const p of panels.values()) await p.close(true);
    await t?.close();
  });

  it(`${ROUNDS * SOAK_TRACES.length} unique calls of every kind, panels reconnecting: library and gateway sizes return to idle`, async () => {
    const library = t.app.get(MessagingRegistry).active();
    const idle = library.internalSizes();
    const stats = newPanelStats();
    panels = await openPanels(LINES, t.port, stats, 8);
    // One line session per open line, nothing else.
    const withPanels = library.internalSizes();
    assert.equal(withPanels['sessions'], LINES.length);
    const pstats = newPbxStats();
    const pbx = new SoakPbx(t.ami, panels, pstats, 20);
    const templates = loadTemplates();
    let k = 900_000;
    for (let round = 0; round < ROUNDS; round++) {
      // Eight calls at once, each on its own two lines.
      await Promise.all(
        templates.map((tpl, i) =>
          pbx.play(instanceOf(tpl, { k: ++k, lineA: LINES[2 * i]!, lineB: LINES[2 * i + 1]! })),
        ),
      );
      for (const p of panels.values()) p.forgetCalls();
      // Some panels drop their socket, some close it, and come back.
      await Promise.all([
        panels.get(LINES[round]!)!.reconnect(true),
        panels.get(LINES[round + 8]!)!.reconnect(false),
      ]);
    }
    // The panels' commands reached the PBX: the test exercises the commands' state too.
    for (const a of ['originate', 'park', 'hangup', 'blindtransfer', 'atxfer']) {
      assert.ok((pstats.actionsSeen.get(a) ?? 0) > 0, `no ${a} action was sent by the service`);
    }
    assert.equal(pstats.finished, ROUNDS * SOAK_TRACES.length);
    // The last calls' auto-unpause actions may still wait for their answer: let them come.
    const settle = async (want: Record<string, number>): Promise<Record<string, string>> => {
      for (let i = 0; i < 250 && Object.keys(notIdle(library.internalSizes(), want)).length; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return notIdle(library.internalSizes(), want);
    };
    assert.deepEqual(await settle(withPanels), {}, 'with the panels still open');

    await Promise.all([...panels.values()].map((p) => p.close(false)));
    panels.clear();
    while (t.gateway.stats().sockets > 0) await new Promise((r) => setTimeout(r, 20));
    const g = t.gateway.stats();
    assert.deepEqual([g.sockets, g.lines, g.negotiations], [0, [], 0]);
    assert.deepEqual(await settle(idle), {}, 'after the panels left');
    assert.equal(stats.errors, 0, [...stats.errorKinds.keys()].join('; '));
  });
});
