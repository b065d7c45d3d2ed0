import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CrmError, CrmErrorCode } from './crm.errors';
import { MsgUtilServiceClient, errorTextOf, guidOfAnswer } from './msg-util-service.client';

const GUID = '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06';

describe('guidOfAnswer / errorTextOf', () => {
  it('reads the GUID as Creatio answers it', () => {
    assert.equal(guidOfAnswer(`"${GUID}"`), GUID);
    assert.equal(guidOfAnswer(GUID.toUpperCase()), GUID);
    assert.equal(guidOfAnswer(`{${GUID}}`), GUID);
    assert.equal(guidOfAnswer(`{"UpdateCallResult":"${GUID}"}`), GUID);
    assert.equal(guidOfAnswer('"00000000-0000-0000-0000-000000000000"'), undefined);
    assert.equal(guidOfAnswer('"Object reference not set"'), undefined);
    assert.equal(guidOfAnswer('{"a":1,"b":2}'), undefined);
    assert.equal(guidOfAnswer(''), undefined);
  });

  it('shows an error text unwrapped, on one line, bounded', () => {
    assert.equal(errorTextOf('"No licence\\r\\nfor you"'), 'No licence for you');
    assert.equal(errorTextOf(''), '(an empty answer)');
    assert.equal(errorTextOf('x'.repeat(2000)).length, 500);
  });
});

describe('MsgUtilServiceClient against a real HTTP server', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
  const seen: { url: string; body: string; type: string | undefined }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body, type: req.headers['content-type'] });
        handler(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/0`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const client = new MsgUtilServiceClient({ timeoutMs: 300 });

  async function rejects(
    p: Promise<unknown>,
    code: CrmErrorCode,
    whole: boolean,
    re: RegExp,
  ): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof CrmError, String(e));
      assert.equal(e.code, code);
      assert.equal(e.wholeCrm, whole);
      assert.match(e.message, re);
      return true;
    });
  }

  it('POSTs the call as JSON to .../ServiceModel/MsgUtilService.svc/UpdateCall and reads the GUID', async () => {
    handler = (_q, res) => res.end(JSON.stringify(GUID));
    seen.length = 0;
    assert.equal(await client.updateCall(base, { id: 'a', state: 1 }), GUID);
    assert.equal(seen[0]!.url, '/0/ServiceModel/MsgUtilService.svc/UpdateCall');
    assert.deepEqual(JSON.parse(seen[0]!.body), { id: 'a', state: 1 });
    assert.match(seen[0]!.type ?? '', /^application\/json/);
  });

  it('an answer that is not a GUID is the CRM error text (this call only)', async () => {
    handler = (_q, res) => res.end('"Call save failed"');
    await rejects(client.updateCall(base, {}), CrmErrorCode.NotAGuid, false, /Call save failed/);
  });

  it('an HTTP error status: 5xx and 404 mean the CRM, 400 this request', async () => {
    handler = (_q, res) => {
      res.statusCode = 503;
      res.end('busy');
    };
    await rejects(client.updateCall(base, {}), CrmErrorCode.HttpStatus, true, /HTTP 503: busy/);
    handler = (_q, res) => {
      res.statusCode = 400;
      res.end('bad call');
    };
    await rejects(client.updateCall(base, {}), CrmErrorCode.HttpStatus, false, /HTTP 400/);
  });

  it("never follows a redirect (the address is the admin's, not the server's)", async () => {
    seen.length = 0;
    handler = (_q, res) => {
      res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    };
    await rejects(
      client.updateCall(base, {}),
      CrmErrorCode.Redirect,
      true,
      /redirects are not followed/,
    );
    assert.equal(seen.length, 1, 'one request only');
  });

  it('gives up after timeoutMs', async () => {
    handler = () => undefined; // never answers
    await rejects(
      client.updateCall(base, {}),
      CrmErrorCode.Unreachable,
      true,
      /no answer within 300 ms/,
    );
  });

  it('reports a refused connection', async () => {
    const dead = new MsgUtilServiceClient({ timeoutMs: 1000 });
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    await rejects(
      dead.updateCall(`http://127.0.0.1:${port}/0`, {}),
      CrmErrorCode.Unreachable,
      true,
      /ECONNREFUSED/,
    );
  });

  it('reads at most 64 KiB of an answer', async () => {
    handler = (_q, res) => res.end('x'.repeat(1024 * 1024));
    await rejects(client.updateCall(base, {}), CrmErrorCode.NotAGuid, false, /x{100}/);
  });

  it('LogInMsgServer: a GUID allows, a text refuses, 403 refuses, 500 is an error', async () => {
    seen.length = 0;
    handler = (_q, res) => res.end(JSON.stringify(GUID));
    assert.deepEqual(await client.logIn(base, GUID, ['K.Use']), { allowed: true });
    assert.deepEqual(JSON.parse(seen[0]!.body), { LicInfoKeys: ['K.Use'], UserUId: GUID });
    assert.equal(seen[0]!.url, '/0/ServiceModel/MsgUtilService.svc/LogInMsgServer');
    handler = (_q, res) => res.end('"No licence"');
    assert.deepEqual(await client.logIn(base, GUID, ['K.Use']), {
      allowed: false,
      text: 'No licence',
    });
    handler = (_q, res) => {
      res.statusCode = 403;
      res.end('Forbidden');
    };
    assert.deepEqual(await client.logIn(base, GUID, ['K.Use']), {
      allowed: false,
      text: 'Forbidden',
    });
    handler = (_q, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    await rejects(client.logIn(base, GUID, []), CrmErrorCode.HttpStatus, true, /HTTP 500/);
  });
});
