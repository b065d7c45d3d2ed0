// Acceptance 4 of issue 13: the demo (scenarios/demo.mjs, what `npm run demo` runs after its build)
// prints the console's address, and a newcomer who opens it with the printed key sees a call
// ringing on line 305 within seconds (Chromium).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium';
import { mainJs, repoRoot } from './support/service-process';

describe('npm run demo', () => {
  let demo: ChildProcess | undefined;
  let browser: Browser | undefined;
  const data = mkdtempSync(join(tmpdir(), 'mh-demo-'));
  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  });

  it('prints the console URL, and the console shows 305 ringing within seconds', async () => {
    mainJs(); // the build is there (npm run demo builds first)
    demo = spawn(process.execPath, [join(repoRoot(), 'scenarios', 'demo.mjs')], {
      cwd: repoRoot(),
      // Port 0 instead of the demo's 2013, and the settings file out of the repository.
      env: {
        PATH: process.env['PATH'] ?? '',
        SERVER__PORT: '0',
        STORAGE__FILE__PATH: join(data, 'settings.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    demo.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const t0 = Date.now();
    const printed = /Console:\s+(http:\/\/\S+\/console)\s+\(API key: (\S+)\)/;
    let m: RegExpExecArray | null;
    while (!(m = printed.exec(out))) {
      if (Date.now() - t0 > 30_000 || demo.exitCode !== null) {
        assert.fail(`the demo printed no console URL:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const [, url, key] = m;
    assert.match(out, /Metrics:\s+http:\/\/\S+\/metrics/);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(url!);
    await page.getByLabel('API key').fill(key!);
    await page.getByRole('button', { name: 'Open' }).click();
    const line = page.locator('[data-line="305"]');
    await line.waitFor({ timeout: 10_000 });
    // The scenario rings 305 at 0.6 s and 15 s of each 57 s loop: a ringing call within seconds.
    await line.locator('.call').getByText('Ringing').waitFor({ timeout: 30_000 });
    assert.equal(await line.locator('.call .called').first().innerText(), '305');
    await page.close();

    demo.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => demo!.once('exit', (c) => r(c)));
    assert.equal(code, 0, out.slice(-2000));
  });
});
