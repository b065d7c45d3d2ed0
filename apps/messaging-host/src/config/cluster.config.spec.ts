import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname, tmpdir } from 'node:os';
import { ConfigError } from './config.errors';
import { loadConfig } from './config.loader';

const base = { ASTERISK__USERNAME: 'u' };
const SECRET = 'cluster-secret-0123456789abcdefghijklmnop';

function load(env: Record<string, string>) {
  return loadConfig({ argv: [], env: { ...base, ...env }, cwd: tmpdir() }).config;
}

function problems(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('cluster configuration', () => {
  it('is off by default, with a 10 s lease and the host name + pid as node id', () => {
    const c = load({}).cluster;
    assert.equal(c.enabled, false);
    assert.equal(c.leaseMs, 10_000);
    assert.equal(c.secret, '');
    assert.equal(c.effectiveNodeId(), `${hostname()}-${process.pid}`);
    assert.equal(load({ CLUSTER__NODEID: 'node-a' }).cluster.effectiveNodeId(), 'node-a');
  });

  it('enabled needs storage.driver redis', () => {
    const msg = problems({ CLUSTER__ENABLED: 'true', CLUSTER__SECRET: SECRET });
    assert.match(msg, /cluster: .*needs storage\.driver "redis"/);
    assert.doesNotMatch(msg, new RegExp(SECRET));
    const ok = load({
      CLUSTER__ENABLED: 'true',
      CLUSTER__SECRET: SECRET,
      STORAGE__DRIVER: 'redis',
    });
    assert.equal(ok.cluster.enabled, true);
  });

  it('enabled needs a secret of 32 characters or more, never shown', () => {
    const env = { CLUSTER__ENABLED: 'true', STORAGE__DRIVER: 'redis' };
    assert.match(problems(env), /cluster\.secret: .*required when cluster\.enabled is true/);
    const short = 'short-secret-value';
    const msg = problems({ ...env, CLUSTER__SECRET: short });
    assert.match(msg, /cluster\.secret: .*at least 32 characters.*value: \*\*\*/);
    assert.doesNotMatch(msg, /short-secret-value/);
  });

  it('refuses a lease below 1 s or above 5 min, and a node id with spaces', () => {
    assert.match(problems({ CLUSTER__LEASEMS: '500' }), /cluster\.leaseMs: .*1000 to 300000/);
    assert.match(problems({ CLUSTER__LEASEMS: '400000' }), /cluster\.leaseMs/);
    assert.match(problems({ CLUSTER__NODEID: 'node a' }), /cluster\.nodeId/);
  });

  it('serialises without the secret', () => {
    const c = load({ CLUSTER__SECRET: SECRET }).cluster;
    assert.doesNotMatch(JSON.stringify({ c }), new RegExp(SECRET));
    assert.match(JSON.stringify(c), /"secret":"\*\*\*"/);
  });
});
