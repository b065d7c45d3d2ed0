import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config.errors';
import { loadConfig } from './config.loader';
import { isCrmBaseUrl } from './crm.config';

const cwd = mkdtempSync(join(tmpdir(), 'mh-crm-config-'));
const BASE = { ASTERISK__URL: 'pbx', ASTERISK__USERNAME: 'u' };

function problems(env: Record<string, string>): string {
  try {
    loadConfig({ argv: [], env: { ...BASE, ...env }, cwd });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  return '';
}

describe('crm configuration', () => {
  it('has the defaults of the issue', () => {
    const { config } = loadConfig({ argv: [], env: BASE, cwd });
    assert.equal(config.crm.saveCalls, true);
    assert.equal(config.crm.serviceUrl, '');
    assert.deepEqual(config.crm.licInfoKeys, ['BPMonlineAsteriskConnector.Use']);
    assert.ok(config.crm.outbox.maxRecords > 0);
  });

  it('takes only an http(s) URL without credentials, query or fragment as crm.serviceUrl', () => {
    for (const ok of ['', 'https://crm.example.com/0', 'http://10.0.0.5:8080']) {
      assert.equal(isCrmBaseUrl(ok), true, ok);
    }
    for (const bad of [
      'ftp://crm.example.com',
      'https://user:pw@crm.example.com',
      'https://crm.example.com/0?x=1',
      'https://crm.example.com/#a',
      'crm.example.com',
    ]) {
      assert.equal(isCrmBaseUrl(bad), false, bad);
    }
    const msg = problems({ CRM__SERVICEURL: 'https://user:secret-pw@crm.example.com' });
    assert.match(msg, /crm\.serviceUrl: .*without user, password/);
    assert.doesNotMatch(msg, /secret-pw/);
  });

  it('refuses security.mode crm without an address to ask', () => {
    assert.match(
      problems({ SECURITY__MODE: 'crm' }),
      /security\.mode crm asks the CRM \(LogInMsgServer\): set crm\.serviceUrl or security\.allowedServiceUrls/,
    );
    assert.equal(
      problems({ SECURITY__MODE: 'crm', CRM__SERVICEURL: 'https://crm.example.com/0' }),
      '',
    );
    assert.equal(
      problems({ SECURITY__MODE: 'crm', SECURITY__ALLOWEDSERVICEURLS: 'https://crm.example.com' }),
      '',
    );
  });

  it('keeps retryMaxDelayMs at or above retryMinDelayMs', () => {
    assert.match(
      problems({ CRM__OUTBOX__RETRYMINDELAYMS: '5000', CRM__OUTBOX__RETRYMAXDELAYMS: '1000' }),
      /crm\.outbox\.retryMaxDelayMs: .*must not be below crm\.outbox\.retryMinDelayMs/,
    );
  });
});
