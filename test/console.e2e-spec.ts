// Acceptance 2 of issue 13: the web console in Chromium (playwright-core driving Debian's browser)
// against the whole service replaying a recorded call: the key, line 305's call ringing, talking
// and ending with the right numbers, the RAW packets, "make call" reaching the fake AMI as an
// Originate, queue pause; a key without `calls` sees no drive buttons and the REST API refuses it.
// The screenshot of the README (docs/console.png) is taken here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ApiKeyConfig } from '../apps/messaging-host/src/config/app-config';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  originateLikeB1,
  replayFrom,
  replayRange,
  replayRinging,
  replayUntil,
} from './asterisk-harness';
import { keysEnv, makeKey, type TestKey } from './support/api-app';
import { launchChromium } from './support/chromium';
import { repoRoot } from './support/service-process';

const supervisor = makeKey('supervisor', ['read', 'calls']);
const wallboard = makeKey('wallboard', ['read']);

function keyConfig(k: TestKey): ApiKeyConfig {
  const [entry] = JSON.parse(keysEnv([k])) as ApiKeyConfig[];
  return Object.assign(new ApiKeyConfig(), entry);
}

const isUp = (p: { event?: string; get(k: string): string | undefined }) =>
  p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up';

describe('web console in Chromium', () => {
  let app: RealApp;
  let browser: Browser;
  let url: string;
  before(async () => {
    browser = await launchChromium();
    app = await startRealApp((c) => {
      c.api.keys = [keyConfig(supervisor), keyConfig(wallboard)];
    });
    url = `http://127.0.0.1:${app.port}/console`;
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  async function openWith(key: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as Page & { errors?: string[] }).errors = errors;
    await page.goto(url);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('.top').getByText('live', { exact: true }).waitFor();
    return page;
  }

  it('shows 305 ringing, talking and ending; RAW packets; drives a call and a queue pause', async () => {
    const page = await openWith(supervisor.key);
    assert.equal(
      await page.evaluate('sessionStorage.getItem("messaging-host.console.key") !== null'),
      true,
      'the key is kept in the session',
    );
    await page.locator('.top').getByText('asterisk').waitFor();
    assert.match(await page.locator('.top').innerText(), /AMI ready/);
    assert.match(await page.locator('.top').innerText(), /node \S+-\d+/);

    // 79161234567 calls 305: the call rings, with its numbers and direction.
    await replayRinging(app.ami);
    const card = page.locator('[data-line="305"]');
    const call = card.locator('.call');
    await call.getByText('Ringing').waitFor();
    assert.equal(await call.locator('.caller').innerText(), '79161234567');
    assert.equal(await call.locator('.called').innerText(), '305');
    assert.equal(await call.locator('.dir').getAttribute('title'), 'direction: in');
    await card.getByText('support').waitFor(); // its queue membership

    // RAW view of the line: packets come live while the call goes on.
    await card.getByRole('button', { name: 'RAW' }).click();
    const raw = page.getByLabel('RAW packets of line 305');
    await raw.getByText('live').waitFor();
    await replayRange(app.ami, 'c_inbound_answered', isUp, (p) => p.event === 'HangupRequest');
    await call.getByText('Talking').waitFor();
    await raw.locator('pre', { hasText: 'Event: BridgeEnter' }).first().waitFor();
    const timer = await call.locator('.timer').innerText();
    assert.match(timer, /^\d+:\d\d$/);
    // It ticks (once a second; a loaded machine may delay the page's timer a little).
    const t0 = Date.now();
    while ((await call.locator('.timer').innerText()) === timer) {
      assert.ok(Date.now() - t0 < 5000, `the duration stays at ${timer}`);
      await page.waitForTimeout(100);
    }
    mkdirSync(join(repoRoot(), 'docs'), { recursive: true });
    await page.screenshot({ path: join(repoRoot(), 'docs', 'console.png') });

    // The caller hangs up: the call is gone from the line.
    await replayFrom(app.ami, 'c_inbound_answered', (p) => p.event === 'HangupRequest');
    await card.getByText('No call').waitFor();
    assert.ok((await raw.locator('pre', { hasText: 'Event: Hangup' }).count()) > 0);

    // Make call: the fake AMI receives the Originate of 305 to 600, and the call shows.
    originateLikeB1(app.ami);
    app.ami.clearActions();
    await card.getByRole('button', { name: 'Make call…' }).click();
    await card.getByLabel('Number to call').fill('600');
    await card.getByRole('button', { name: 'Call', exact: true }).click();
    const originate = await app.ami.waitForAction('Originate');
    assert.equal(originate.get('Channel'), 'SIP/305');
    assert.equal(originate.get('Exten'), '600');
    // The REST answer (202 once the call showed on the line) comes back as a note on the page.
    await page.locator('.toasts').getByText('call 600 from 305').waitFor();

    // Pause in queues: QueuePause for the line's member interface.
    await card.getByRole('button', { name: 'Pause in queues' }).click();
    const pause = await app.ami.waitForAction('QueuePause');
    assert.equal(pause.get('Interface'), 'Local/305@from-queue/n');
    assert.equal(pause.get('Paused'), 'true');
    assert.deepEqual((page as Page & { errors?: string[] }).errors, []);
    await page.context().close();
  });

  it('a key without the scope calls sees no drive buttons, and the REST API refuses it', async () => {
    const page = await openWith(wallboard.key);
    await page.locator('.top').getByText('wallboard').waitFor();
    // Another call (d_inbound_missed: 79031112233 rings 305 and gives up).
    await replayUntil(app.ami, 'd_inbound_missed', (p) => p.event === 'HangupRequest');
    const card = page.locator('[data-line="305"]');
    await card.locator('.call').getByText('Ringing').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Hang up' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Make call…' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Pause in queues' }).count(), 0);
    const status = await page.evaluate(
      async (key) =>
        (
          await fetch('/api/v1/calls', {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ line: '305', number: '600' }),
          })
        ).status,
      wallboard.key,
    );
    assert.equal(status, 403);
    await replayFrom(app.ami, 'd_inbound_missed', (p) => p.event === 'HangupRequest');
    await card.getByText('No call').waitFor();
    await page.context().close();
  });

  it('an unknown key is refused and asked again; the page loads nothing from elsewhere', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${app.port}/`)) foreign.push(r.url());
    });
    const res = await page.goto(url);
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('alert').getByText('unknown API key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    assert.deepEqual(foreign, []);
    await context.close();
  });
});
