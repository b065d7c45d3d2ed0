import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecurityConfig } from '../../config/app-config';
import { GatewaySecurity } from '../security/gateway-security';
import { NEGOTIATION_TTL_MS, NegotiateHandler } from './negotiate.handler';

describe('NegotiateHandler', () => {
  it("claims only the hubs' negotiate paths", () => {
    const h = new NegotiateHandler(['/', '/msg'], new GatewaySecurity(new SecurityConfig()));
    assert.ok(h.claims('/negotiate'));
    assert.ok(h.claims('/msg/negotiate'));
    assert.ok(h.claims('/msg/negotiate/'));
    assert.ok(!h.claims('/api/v1/negotiate'));
    assert.ok(!h.claims('/health/ready'));
    assert.ok(!h.claims('/msg'));
  });

  it('gives each negotiated token once, and forgets it after its time', () => {
    let now = 1_000;
    const h = new NegotiateHandler(['/'], new GatewaySecurity(new SecurityConfig()), () => now);
    const answer = (
      h as unknown as { negotiate(v: number, o?: string): Record<string, string> }
    ).negotiate.bind(h);
    const v1 = answer(1, 'http://crm');
    assert.equal(h.take(v1['connectionId']!), undefined, 'v1 connects with the token, not the id');
    assert.equal(h.take(v1['connectionToken']!)?.origin, 'http://crm');
    assert.equal(h.take(v1['connectionToken']!), undefined, 'a token is used once');
    const v0 = answer(0);
    now += NEGOTIATION_TTL_MS + 1;
    assert.equal(h.take(v0['connectionId']!), undefined, 'expired');
    answer(0);
    assert.equal(h.pendingCount, 1);
    now += NEGOTIATION_TTL_MS + 1;
    h.sweep();
    assert.equal(h.pendingCount, 0);
  });
});
