import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import { keysEnv, makeKey, startRecordingApiApp, type ApiApp } from './support/api-app';
import { startRedisServer, type RedisServer } from './support/redis-server';

Logger.overrideLogger(false);

const admin = makeKey('crm', ['read', 'settings']);
const auth = { Authorization: `Bearer ${admin.key}` };
const LINES = 50;
const PUTS = 1000;

const settingsFor = (i: number) => ({
  debugMode: i % 2 === 0,
  useBlindTransfer: i % 3 === 0,
  originateContext: `ctx-${i}`,
  userUId: `user-${i}`,
});

/** 1,000 PUTs over HTTP at once; then every line holds exactly one of the bodies PUT for it. */
async function concurrentPuts(api: ApiApp): Promise<Map<string, unknown>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const answers = await Promise.all(
      Array.from({ length: PUTS }, (_, i) =>
        request(api.url)
          .put(`/api/v1/lines/${300 + (i % LINES)}/settings`)
          .agent(agent)
          .set(auth)
          .send(settingsFor(i)),
      ),
    );
    answers.forEach((res, i) => {
      assert.equal(res.status, 200, `PUT #${i}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, settingsFor(i), `PUT #${i} answered what it stored`);
    });
    const stored = new Map<string, unknown>();
    for (let line = 0; line < LINES; line++) {
      const res = await request(api.url)
        .get(`/api/v1/lines/${300 + line}/settings`)
        .set(auth)
        .expect(200);
      const candidates = Array.from({ length: PUTS / LINES }, (_, k) =>
        settingsFor(line + k * LINES),
      );
      assert.ok(
        candidates.some((c) => JSON.stringify(c) === JSON.stringify(res.body)),
        `line ${300 + line} holds a mix of PUTs: ${JSON.stringify(res.body)}`,
      );
      stored.set(String(300 + line), res.body);
    }
    return stored;
  } finally {
    agent.destroy();
  }
}

async function afterRestart(api: ApiApp, before: Map<string, unknown>): Promise<void> {
  for (const [line, want] of before) {
    const res = await request(api.url).get(`/api/v1/lines/${line}/settings`).set(auth).expect(200);
    assert.deepEqual(res.body, want, `line ${line} after the restart`);
  }
}

describe('1,000 concurrent PUTs over REST, then a restart', () => {
  const env = { API__KEYS: keysEnv([admin]), API__RATELIMIT__LIMIT: '100000' };

  describe('storage.driver file', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'mh-conc-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('stays consistent and survives the restart', async () => {
      const first = await startRecordingApiApp(env, dir);
      let stored: Map<string, unknown>;
      try {
        stored = await concurrentPuts(first);
      } finally {
        await first.close();
      }
      const doc = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as {
        lines: Record<string, unknown>;
      };
      assert.equal(Object.keys(doc.lines).length, LINES);
      const second = await startRecordingApiApp(env, dir);
      try {
        await afterRestart(second, stored);
      } finally {
        await second.close();
      }
    });
  });

  describe('storage.driver redis', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedisServer();
    });
    after(async () => {
      await redis?.stop();
    });

    it('stays consistent and survives the restart of the service', async () => {
      const redisEnv = {
        ...env,
        STORAGE__DRIVER: 'redis',
        STORAGE__REDIS__URL: redis.url,
        STORAGE__REDIS__KEYPREFIX: 'conc:',
      };
      const first = await startRecordingApiApp(redisEnv);
      let stored: Map<string, unknown>;
      try {
        stored = await concurrentPuts(first);
      } finally {
        await first.close();
      }
      const second = await startRecordingApiApp(redisEnv);
      try {
        await afterRestart(second, stored);
      } finally {
        await second.close();
      }
    });
  });
});
