import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LineSettingsStoreError,
  LineSettingsStoreErrorCode,
  type LineSettingsStore,
  type StoredLineSettings,
} from '../apps/messaging-host/src/settings/line-settings.store';

/** Opens store instances over the same backing data (a file, a Redis database). */
export interface StoreBackend {
  /** A new, opened store instance; instances opened later see what earlier ones wrote. */
  open(): Promise<LineSettingsStore>;
}

/** The behaviour every LineSettingsStore driver must have (file and redis run the same tests). */
export function lineSettingsStoreSuite(name: string, backend: () => StoreBackend): void {
  describe(`${name}: the LineSettingsStore contract`, () => {
    let store: LineSettingsStore;
    const opened: LineSettingsStore[] = [];
    const open = async (): Promise<LineSettingsStore> => {
      const s = await backend().open();
      opened.push(s);
      return s;
    };
    before(async () => {
      store = await open();
    });
    after(async () => {
      for (const s of opened) await s.close();
    });

    it('is ready once opened', () => {
      assert.equal(store.readiness().ready, true, store.readiness().reason);
    });

    it('answers undefined and false for a line without settings', async () => {
      assert.equal(await store.get('nobody'), undefined);
      assert.equal(await store.delete('nobody'), false);
    });

    it('put replaces the whole settings and answers what is stored', async () => {
      const first = await store.put('305', {
        disableCallCentre: false,
        debugMode: true,
        useBlindTransfer: true,
        originateContext: 'from-internal',
        userUId: '410006e1-ca4e-4502-a9ec-e54d922d2c00',
      });
      assert.deepEqual(first, {
        disableCallCentre: false,
        debugMode: true,
        useBlindTransfer: true,
        originateContext: 'from-internal',
        userUId: '410006e1-ca4e-4502-a9ec-e54d922d2c00',
      });
      const second = await store.put('305', { originateContext: 'sales' });
      assert.deepEqual(second, { originateContext: 'sales' });
      assert.deepEqual(await store.get('305'), { originateContext: 'sales' });
    });

    it('put of empty settings keeps the line with no fields', async () => {
      assert.deepEqual(await store.put('empty', {}), {});
      assert.deepEqual(await store.get('empty'), {});
    });

    it('patch merges, null removes a field, a missing line is created', async () => {
      assert.deepEqual(await store.patch('306', { debugMode: true }), { debugMode: true });
      assert.deepEqual(await store.patch('306', { originateContext: 'ctx', debugMode: false }), {
        debugMode: false,
        originateContext: 'ctx',
      });
      assert.deepEqual(await store.patch('306', { debugMode: null }), { originateContext: 'ctx' });
      assert.deepEqual(await store.get('306'), { originateContext: 'ctx' });
    });

    it('delete removes the line and answers true once', async () => {
      await store.put('307', { userUId: 'u' });
      assert.equal(await store.delete('307'), true);
      assert.equal(await store.get('307'), undefined);
      assert.equal(await store.delete('307'), false);
    });

    it('lines with odd names are kept apart', async () => {
      await store.put('a:b', { userUId: '1' });
      await store.put('a', { userUId: '2' });
      await store.put('PJSIP/office', { userUId: '3' });
      assert.deepEqual(await store.get('a:b'), { userUId: '1' });
      assert.deepEqual(await store.get('a'), { userUId: '2' });
      assert.deepEqual(await store.get('PJSIP/office'), { userUId: '3' });
    });

    it('keeps 1,000 concurrent PUTs (and 200 concurrent PATCHes) consistent, and survives a restart', async () => {
      const LINES = 100;
      const settingsFor = (i: number): StoredLineSettings => ({
        debugMode: i % 2 === 0,
        useBlindTransfer: i % 3 === 0,
        originateContext: `ctx-${i}`,
        userUId: `user-${i}`,
      });
      const puts = Array.from({ length: 1000 }, (_, i) =>
        store.put(`c${i % LINES}`, settingsFor(i)),
      );
      // Two writers take turns on each field of one line.
      const patches = Array.from({ length: 200 }, (_, i) => {
        const v = i;
        switch (i % 4) {
          case 0:
            return store.patch('p', { originateContext: `o-${v}` });
          case 1:
            return store.patch('p', { userUId: `u-${v}` });
          case 2:
            return store.patch('p', { debugMode: v % 8 === 2 });
          default:
            return store.patch('p', { useBlindTransfer: v % 8 === 7 });
        }
      });
      const results = await Promise.all(puts);
      results.forEach((r, i) => assert.deepEqual(r, settingsFor(i), `put #${i} answered`));
      await Promise.all(patches);

      const expected = new Map<string, StoredLineSettings>();
      for (let line = 0; line < LINES; line++) {
        // The last PUT issued for a line wins: every field of it, none of an earlier one.
        expected.set(`c${line}`, settingsFor(900 + line));
      }
      expected.set('p', {
        originateContext: 'o-196',
        userUId: 'u-197',
        debugMode: false,
        useBlindTransfer: true,
      });
      for (const [line, want] of expected) assert.deepEqual(await store.get(line), want, line);

      await store.close();
      const reopened = await open();
      assert.equal(reopened.readiness().ready, true, reopened.readiness().reason);
      for (const [line, want] of expected) {
        assert.deepEqual(await reopened.get(line), want, `after restart: ${line}`);
      }
      assert.deepEqual(await reopened.get('306'), { originateContext: 'ctx' });
      store = reopened;
    });

    it('a closed store refuses with StoreUnavailable', async () => {
      const s = await open();
      await s.close();
      await assert.rejects(s.put('x', {}), isUnavailable);
    });
  });
}

export function isUnavailable(err: unknown): boolean {
  assert.ok(err instanceof LineSettingsStoreError, `not a LineSettingsStoreError: ${String(err)}`);
  assert.equal(err.code, LineSettingsStoreErrorCode.StoreUnavailable);
  return true;
}
