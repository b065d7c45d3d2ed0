import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CrmTargets, normaliseBaseUrl } from './crm-target';

describe('CrmTargets (which CRM address may be called: no SSRF)', () => {
  it('crm.serviceUrl, when set, is the only address: a panel cannot change it', () => {
    const t = new CrmTargets({ serviceUrl: 'https://crm.example.com/0/' }, []);
    assert.deepEqual(t.resolve('http://169.254.169.254/latest'), {
      base: 'https://crm.example.com/0',
    });
    assert.deepEqual(t.resolve(undefined), { base: 'https://crm.example.com/0' });
    assert.deepEqual(t.current('http://elsewhere.example'), { base: 'https://crm.example.com/0' });
  });

  it("without it, a panel's ServiceUrl only when it is in security.allowedServiceUrls or below one", () => {
    const t = new CrmTargets({ serviceUrl: '' }, [
      'https://CRM.example.com',
      'http://10.0.0.7:8080/bpm',
    ]);
    assert.deepEqual(t.resolve('https://crm.example.com/0'), { base: 'https://crm.example.com/0' });
    assert.deepEqual(t.resolve('http://10.0.0.7:8080/bpm/0/'), {
      base: 'http://10.0.0.7:8080/bpm/0',
    });
    for (const [url, why] of [
      ['https://crm.example.com.evil.test/0', /is not in security\.allowedServiceUrls/],
      ['https://crm.example.com:8443/0', /is not in security\.allowedServiceUrls/],
      ['http://10.0.0.7:8080/bpmx', /is not in security\.allowedServiceUrls/],
      ['http://10.0.0.7:8080/', /is not in security\.allowedServiceUrls/],
      ['file:///etc/passwd', /is not an http\(s\) URL/],
      ['not a url', /is not an http\(s\) URL/],
      ['https://user:pw@crm.example.com/0', /carries a user name or password/],
      ['', /sent no ServiceUrl/],
    ] as const) {
      const r = t.resolve(url);
      assert.equal(r.base, undefined, url);
      assert.match(r.off!, why, url);
    }
    assert.doesNotMatch(t.resolve('https://user:pw@crm.example.com/0').off!, /pw/);
  });

  it('nothing is called when neither is configured', () => {
    const t = new CrmTargets({ serviceUrl: '' }, []);
    assert.match(
      t.resolve('https://crm.example.com/0').off!,
      /security\.allowedServiceUrls is empty/,
    );
  });

  it('a stored call goes only where the configuration still allows', () => {
    const t = new CrmTargets({ serviceUrl: '' }, ['https://crm.example.com']);
    assert.deepEqual(t.current('https://crm.example.com/0'), { base: 'https://crm.example.com/0' });
    assert.match(t.current('https://old.example.com/0').off!, /no longer allowed/);
  });

  it('normalises to scheme://host[:port]/path', () => {
    assert.equal(
      normaliseBaseUrl(' https://crm.example.com:443/0/?a=1#x '),
      'https://crm.example.com/0',
    );
    assert.equal(normaliseBaseUrl('ws://crm.example.com'), undefined);
  });
});
