import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { FileLineSettingsStore } from '../apps/messaging-host/src/settings/file-line-settings.store';
import { isUnavailable, lineSettingsStoreSuite } from './settings-store-suite';

Logger.overrideLogger(false);

describe('FileLineSettingsStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mh-settings-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const openAt = async (path: string): Promise<FileLineSettingsStore> => {
    const s = new FileLineSettingsStore(path);
    await s.open();
    return s;
  };

  lineSettingsStoreSuite('file', () => ({
    open: () => openAt(join(dir, 'suite', 'data', 'settings.json')),
  }));

  it('writes one JSON document, leaves no temporary file and creates missing directories', async () => {
    const path = join(dir, 'a', 'b', 'settings.json');
    const s = await openAt(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.put(String(i), { userUId: `u${i}` })));
    await s.close();
    const doc = JSON.parse(await readFile(path, 'utf8')) as {
      version: number;
      lines: Record<string, unknown>;
    };
    assert.equal(doc.version, 1);
    assert.equal(Object.keys(doc.lines).length, 50);
    assert.deepEqual(doc.lines['7'], { userUId: 'u7' });
    assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['settings.json']);
  });

  it('a corrupt file makes the store unavailable and is never overwritten', async () => {
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{"version":1,"lines":{"305":{"debugMode":"yes"}}}');
    const s = await openAt(path);
    const r = s.readiness();
    assert.equal(r.ready, false);
    assert.match(r.reason ?? '', /lines\["305"\]\.debugMode must be a boolean/);
    await assert.rejects(s.get('305'), isUnavailable);
    await assert.rejects(s.put('305', { debugMode: true }), isUnavailable);
    assert.equal(await readFile(path, 'utf8'), '{"version":1,"lines":{"305":{"debugMode":"yes"}}}');

    await writeFile(path, 'not json');
    const t = await openAt(path);
    assert.match(t.readiness().reason ?? '', /not valid JSON/);
  });

  it('a failed write rejects with StoreUnavailable, keeps the old value and recovers', async () => {
    const path = join(dir, 'fail', 'settings.json');
    const s = await openAt(path);
    await s.put('305', { userUId: 'before' });
    // The file's place becomes a non-empty directory: the rename over it fails.
    await rm(path);
    await mkdir(join(path, 'x'), { recursive: true });
    await assert.rejects(s.put('305', { userUId: 'after' }), (err) => {
      isUnavailable(err);
      assert.match((err as Error).message, /cannot write the settings file/);
      return true;
    });
    assert.equal(s.readiness().ready, false);
    assert.deepEqual(await s.get('305'), { userUId: 'before' });
    await rm(path, { recursive: true });
    assert.deepEqual(await s.put('306', { debugMode: true }), { debugMode: true });
    assert.equal(s.readiness().ready, true);
    assert.deepEqual(await s.get('305'), { userUId: 'before' });
    await s.close();
  });
});
