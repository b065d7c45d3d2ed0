import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LoggingConfig } from '../config/app-config';
import { createRootLogger } from './pino-logger';
import { logFileOptions, openLogFile } from './log-files';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mh-roll-'));
  dirs.push(d);
  return d;
};

describe('log files (logging.toFile)', () => {
  it('rolls over by size and keeps only maxFiles old files besides the current one', async () => {
    const dir = tempDir();
    // A file of an earlier run: it counts towards the kept files and goes when it is the oldest.
    writeFileSync(join(dir, 'messaging-host.1.log'), '{"old":true}\n');
    const stream = await openLogFile({ dir, maxBytes: 2000, maxFiles: 2 });
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    const root = createRootLogger(new LoggingConfig(), quiet, stream);
    for (let i = 0; i < 120; i++) {
      root.info({ i, pad: 'x'.repeat(60) }, `line ${i}`);
      if (i % 10 === 9) await sleep(15); // let each write drain, as a real service's would
    }
    await sleep(200);
    const files = readdirSync(dir)
      .filter((f) => /^messaging-host\.\d+\.log$/.test(f))
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
    assert.ok(files.length <= 3, `current + 2 kept, got ${files.join(', ')}`);
    assert.ok(files.length >= 2, `it rolled over at least once: ${files.join(', ')}`);
    assert.ok(!files.includes('messaging-host.1.log'), 'the oldest file was deleted');
    const newest = files.at(-1)!;
    assert.equal(readlinkSync(join(dir, 'current.log')), newest, 'current.log -> the newest');
    // The last line is in the newest file, or in the one before when the roll came right after it.
    const tail = files
      .slice(-2)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    assert.match(tail, /line 119"/);
    // A file rolls once its writes have drained: it may pass the size by what one burst wrote.
    const burst = 10 * 200;
    for (const f of files) {
      const size = readFileSync(join(dir, f)).length;
      assert.ok(size < 2000 + burst, `${f} is ${size} bytes: rolled near 2000`);
    }
    stream.end();
  });

  it('takes its limits from logging.* (MiB and a count)', () => {
    const c = Object.assign(new LoggingConfig(), { dir: 'x', maxFileSizeMb: 3, maxFiles: 7 });
    assert.deepEqual(logFileOptions(c), { dir: 'x', maxBytes: 3 * 1024 * 1024, maxFiles: 7 });
  });

  it('names logging.dir when the folder cannot be written', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    await assert.rejects(
      openLogFile({ dir: join(file, 'logs'), maxBytes: 1000, maxFiles: 1 }),
      /logging\.dir: cannot write the log files in .*a-file/,
    );
  });
});
