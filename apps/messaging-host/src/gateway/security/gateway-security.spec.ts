import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecurityConfig, SecurityMode } from '../../config/app-config';
import { GatewaySecurity } from './gateway-security';
import { signGatewayToken, TokenFault, verifyGatewayToken } from './gateway-token';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const NOW = Date.UTC(2026, 0, 1);
const exp = (s: number): number => Math.floor(NOW / 1000) + s;

describe('gateway tokens (HS256)', () => {
  const good = signGatewayToken(SECRET, { sub: 'User-1', line: '305', exp: exp(60) });
  const expect = { user: 'user-1', line: '305' };

  it('accepts a good token (user compared without case)', () => {
    assert.equal(verifyGatewayToken(good, SECRET, expect, NOW), null);
  });
  it('names each fault', () => {
    assert.equal(verifyGatewayToken(undefined, SECRET, expect, NOW), TokenFault.Missing);
    assert.equal(verifyGatewayToken('abc', SECRET, expect, NOW), TokenFault.Malformed);
    assert.equal(verifyGatewayToken('a.b.c', SECRET, expect, NOW), TokenFault.Malformed);
    assert.equal(verifyGatewayToken(good, `${SECRET}x`, expect, NOW), TokenFault.BadSignature);
    const [h, b] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'user-1', line: '306', exp: exp(60) })).toString('base64url')}.${good.split('.')[2]}`;
    assert.equal(verifyGatewayToken(forged, SECRET, expect, NOW), TokenFault.BadSignature);
    assert.ok(b);
    const old = signGatewayToken(SECRET, { sub: 'user-1', line: '305', exp: exp(-1) });
    assert.equal(verifyGatewayToken(old, SECRET, expect, NOW), TokenFault.Expired);
    const other = signGatewayToken(SECRET, { sub: 'user-1', line: '306', exp: exp(60) });
    assert.equal(verifyGatewayToken(other, SECRET, expect, NOW), TokenFault.WrongLine);
    const someone = signGatewayToken(SECRET, { sub: 'user-2', line: '305', exp: exp(60) });
    assert.equal(verifyGatewayToken(someone, SECRET, expect, NOW), TokenFault.WrongUser);
  });
  it('refuses another algorithm', () => {
    const head = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = good.split('.')[1];
    assert.equal(
      verifyGatewayToken(`${head}.${body}.AAAA`, SECRET, expect, NOW),
      TokenFault.Malformed,
    );
  });
});

describe('GatewaySecurity', () => {
  const config = (mode: SecurityMode): SecurityConfig =>
    Object.assign(new SecurityConfig(), {
      mode,
      allowedOrigins: ['https://crm.example.com'],
      allowedServiceUrls: ['https://crm.example.com/0'],
      tokenSecret: SECRET,
    });
  const claim = {
    origin: undefined,
    queryToken: undefined,
    paramsToken: undefined,
    serviceUrl: 'https://crm.example.com/0',
    user: 'u',
    line: '305',
  };

  it('none trusts everyone', () => {
    const s = new GatewaySecurity(config(SecurityMode.None));
    assert.equal(s.checkOpen({ ...claim, origin: 'http://evil', serviceUrl: undefined }), null);
    assert.ok(s.originAllowed('http://evil'));
  });
  it('allowlist checks the origin (when sent) and the service URL (prefix by path)', () => {
    const s = new GatewaySecurity(config(SecurityMode.AllowList));
    assert.equal(s.checkOpen(claim), null);
    assert.equal(s.checkOpen({ ...claim, origin: 'https://CRM.example.com/' }), null);
    assert.equal(
      s.checkOpen({ ...claim, serviceUrl: 'https://crm.example.com/0/ServiceModel' }),
      null,
    );
    assert.match(s.checkOpen({ ...claim, origin: 'https://evil.example' }) ?? '', /allowedOrigins/);
    assert.match(
      s.checkOpen({ ...claim, serviceUrl: 'https://crm.example.com.evil/0' }) ?? '',
      /allowedServiceUrls/,
    );
    assert.match(
      s.checkOpen({ ...claim, serviceUrl: 'https://crm.example.com/01' }) ?? '',
      /allowedServiceUrls/,
    );
    assert.match(s.checkOpen({ ...claim, serviceUrl: undefined }) ?? '', /missing/);
  });
  it('token mode takes the query token first, else the one of sessionServiceParams', () => {
    const s = new GatewaySecurity(config(SecurityMode.Token));
    const tok = signGatewayToken(SECRET, {
      sub: 'u',
      line: '305',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    assert.equal(s.checkOpen({ ...claim, queryToken: tok }), null);
    assert.equal(s.checkOpen({ ...claim, paramsToken: tok }), null);
    assert.match(s.checkOpen(claim) ?? '', /token refused: missing/);
    assert.match(s.checkOpen({ ...claim, user: '', paramsToken: tok }) ?? '', /UserUId/);
    assert.ok(!(s.checkOpen({ ...claim, queryToken: 'x.y.z' }) ?? '').includes(SECRET));
  });
});
