import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallDirection, CallState } from '@app/messaging';
import { FileCrmOutboxStore, outboxJournalPath } from './file-crm-outbox.store';
import type { StoredCrmCall } from './crm-outbox.types';

function stored(id: string, changes = 1): StoredCrmCall {
  return {
    v: 1,
    id,
    line: '305',
    base: 'http://crm.test/0',
    announced: false,
    ended: false,
    changes: Array.from({ length: changes }, (_, i) => ({
      seq: i + 1,
      at: 1000 + i,
      eventType: 5,
      call: {
        id,
        deviceId: '305',
        callerId: '1',
        calledId: '305',
        direction: CallDirection.IN,
        state: CallState.ALERTING,
        oldState: CallState.NONE,
        callFeaturesSet: 8,
      },
    })),
  };
}

describe('FileCrmOutboxStore (journal)', () => {
  it('lives beside the settings file', () => {
    assert.equal(
      outboxJournalPath('data/settings.json'),
      join('data', 'settings.crm-outbox.jsonl'),
    );
  });

  it('keeps the latest state of every call across a restart; removed calls stay removed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-journal-')), 'o.jsonl');
    const a = new FileCrmOutboxStore(path);
    await a.open();
    assert.deepEqual(await a.takeOver(), []);
    await a.put(stored('A', 1));
    await a.put(stored('A', 2));
    await a.put(stored('B', 1));
    await Promise.all([a.put(stored('C', 1)), a.remove('B')]);
    await a.close();

    const b = new FileCrmOutboxStore(path);
    await b.open();
    assert.equal(b.readiness().ready, true);
    const calls = await b.takeOver();
    assert.deepEqual(calls.map((c) => [c.id, c.changes.length]).sort(), [
      ['A', 2],
      ['C', 1],
    ]);
    assert.deepEqual(await b.takeOver(), [], 'taken once');
    assert.equal((await b.inspect('A'))?.mine, true);
    // Reopening compacted the journal: one line per live call.
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 2);
    await b.close();
  });

  it('skips a line torn by a crash, and a bad line in the middle with a warning', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-journal-')), 'o.jsonl');
    const a = new FileCrmOutboxStore(path);
    await a.open();
    await a.put(stored('A'));
    await a.close();
    appendFileSync(path, '{"p": {"v": 1, "id": "X"}}\n');
    appendFileSync(path, `${JSON.stringify({ p: stored('B') })}\n`);
    appendFileSync(path, '{"p": {"v": 1, "id": "C", "li');
    const b = new FileCrmOutboxStore(path);
    await b.open();
    assert.deepEqual((await b.takeOver()).map((c) => c.id).sort(), ['A', 'B']);
    await b.close();
  });

  it('compacts when dead lines outnumber live ones', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-journal-')), 'o.jsonl');
    const a = new FileCrmOutboxStore(path);
    await a.open();
    for (let i = 0; i < 1500; i++) await a.put(stored('A', (i % 3) + 1));
    await a.put(stored('B'));
    const lines = readFileSync(path, 'utf8').trim().split('\n').length;
    assert.ok(lines < 1100, `compacted (${lines} lines)`);
    await a.close();
    const b = new FileCrmOutboxStore(path);
    await b.open();
    assert.deepEqual((await b.takeOver()).map((c) => c.id).sort(), ['A', 'B']);
    await b.close();
  });

  it('is unavailable, not overwritten, when the journal cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-journal-'));
    const s = new FileCrmOutboxStore(dir); // a directory: EISDIR
    await s.open();
    assert.equal(s.readiness().ready, false);
    assert.match(s.readiness().reason ?? '', /cannot read the CRM outbox/);
    await s.close();
  });
});
