// Findings 2 and 8: one body limit (size, depth, media type, time) on every REST route, read only
// after the API key and its scope were checked; every refusal in the documented shape
// {statusCode, error, message, code}.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearer, startHostileRig, type HostileRig } from './hostile-rig';
import { head, rawRequest } from './body-client';

const BODY_ROUTES: [string, string][] = [
  ['POST', '/api/v1/calls'],
  ['POST', '/api/v1/calls/1700000000.1/transfer'],
  ['POST', '/api/v1/calls/1700000000.1/transfer/complete'],
  ['POST', '/api/v1/calls/1700000000.1/transfer/cancel'],
  ['POST', '/api/v1/calls/1700000000.1/dtmf'],
  ['PUT', '/api/v1/lines/305/queue-pause'],
  ['PUT', '/api/v1/lines/305/settings'],
  ['PATCH', '/api/v1/lines/305/settings'],
];

function documented(body: string, status: number, code: string): void {
  const o = JSON.parse(body) as Record<string, unknown>;
  assert.equal(o['statusCode'], status, body);
  assert.equal(typeof o['error'], 'string', body);
  assert.equal(typeof o['message'], 'string', body);
  assert.equal(o['code'], code, body);
}

describe('hostile 2 and 8: REST bodies', () => {
  let rig: HostileRig;
  before(async () => {
    rig = await startHostileRig();
  });
  after(() => rig?.close());

  it('a body nested 1,400 levels deep answers 400 VALIDATION_FAILED on every body route, never 500', async () => {
    const deep = `{"zz":${'['.repeat(1400)}${']'.repeat(1400)}}`;
    for (const [method, path] of BODY_ROUTES) {
      const r = await rig
        .http()
        [method.toLowerCase() as 'post'](path)
        .set(bearer(rig.keys.crm))
        .set('Content-Type', 'application/json')
        .send(deep);
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      documented(r.text, 400, 'VALIDATION_FAILED');
      assert.match(r.text, /deeper than 16 levels/);
    }
    assert.ok(!rig.logs.lines.some((l) => /Maximum call stack|RangeError/.test(l.message)));
  });

  it('10 MiB without a key: 401, the body is not read and the connection closes', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const r = await rawRequest(
      rig.port,
      head('POST', '/api/v1/calls', {
        'Content-Type': 'application/json',
        'Content-Length': body.length,
      }),
      body,
    );
    assert.equal(r.status, 401);
    documented(r.body, 401, 'UNAUTHORIZED');
    assert.equal(r.headers['connection'], 'close');
    assert.ok(r.closed, 'the connection stays open with an unread body');
  });

  it('invalid JSON with a read-only key on a settings route: 403, not 400', async () => {
    const r = await rig
      .http()
      .put('/api/v1/lines/305/settings')
      .set(bearer(rig.keys.reader))
      .set('Content-Type', 'application/json')
      .send('{not json');
    assert.equal(r.status, 403, r.text);
    documented(r.text, 403, 'FORBIDDEN');
  });

  it('with a key: 413 over limits.maxBodyBytes, 415 for another media type, 400 for bad JSON and UTF-8, all documented', async () => {
    const big = Buffer.alloc(65 * 1024, 0x20);
    const tooLarge = await rawRequest(
      rig.port,
      head('POST', '/api/v1/calls', {
        ...bearer(rig.keys.crm),
        'Content-Type': 'application/json',
        'Content-Length': big.length,
      }),
      big,
    );
    assert.equal(tooLarge.status, 413);
    documented(tooLarge.body, 413, 'PAYLOAD_TOO_LARGE');

    // Chunked, no Content-Length: counted while it streams.
    const chunked = await rawRequest(
      rig.port,
      head('POST', '/api/v1/calls', {
        ...bearer(rig.keys.crm),
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      }),
      Buffer.concat(
        Array.from({ length: 40 }, () => Buffer.from(`800\r\n${' '.repeat(0x800)}\r\n`)),
      ),
    );
    assert.equal(chunked.status, 413);
    documented(chunked.body, 413, 'PAYLOAD_TOO_LARGE');

    const text = await rig
      .http()
      .post('/api/v1/calls')
      .set(bearer(rig.keys.crm))
      .set('Content-Type', 'text/plain')
      .send('line=305');
    assert.equal(text.status, 415, text.text);
    documented(text.text, 415, 'UNSUPPORTED_MEDIA_TYPE');

    const bad = await rig
      .http()
      .post('/api/v1/calls')
      .set(bearer(rig.keys.crm))
      .set('Content-Type', 'application/json')
      .send('{"line": 305,');
    assert.equal(bad.status, 400, bad.text);
    documented(bad.text, 400, 'VALIDATION_FAILED');

    const latin = await rawRequest(
      rig.port,
      head('POST', '/api/v1/calls', {
        ...bearer(rig.keys.crm),
        'Content-Type': 'application/json',
        'Content-Length': 16,
      }),
      Buffer.from('{"line":"\xff\xfe305"}', 'latin1').subarray(0, 16),
    );
    assert.equal(latin.status, 400, latin.body);
    documented(latin.body, 400, 'VALIDATION_FAILED');
    assert.equal(rig.ami.actions.length, 0, 'nothing reached the PBX');
  });
});
