import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import { compileErrors, validate } from '@readme/openapi-parser';
import { buildApiDocument } from '../apps/messaging-host/src/api/api-docs';
import { startRecordingApiApp, type ApiApp } from './support/api-app';

Logger.overrideLogger(false);

/** Every route the issue asks for, as the document must list it. */
const ROUTES = [
  'post /api/v1/calls',
  'get /api/v1/calls',
  'get /api/v1/calls/{id}',
  'delete /api/v1/calls/{id}',
  'post /api/v1/calls/{id}/hold',
  'post /api/v1/calls/{id}/unhold',
  'post /api/v1/calls/{id}/transfer',
  'post /api/v1/calls/{id}/transfer/complete',
  'post /api/v1/calls/{id}/transfer/cancel',
  'post /api/v1/calls/{id}/dtmf',
  'get /api/v1/lines/{line}',
  'put /api/v1/lines/{line}/queue-pause',
  'get /api/v1/lines/{line}/settings',
  'put /api/v1/lines/{line}/settings',
  'patch /api/v1/lines/{line}/settings',
  'delete /api/v1/lines/{line}/settings',
  'get /api/v1/libraries',
  'get /api/v1/diagnostics/sizes',
  'get /api/v1/events',
];

type Operation = {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  security?: Record<string, string[]>[];
};

describe('OpenAPI document of /api/v1', () => {
  let api: ApiApp;
  before(async () => {
    api = await startRecordingApiApp();
  });
  after(async () => {
    await api?.close();
  });

  it('is valid OpenAPI (generated in the test and validated with @readme/openapi-parser)', async () => {
    const doc = buildApiDocument(api.app);
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
  });

  it('lists every route, each with its 4xx/5xx as ApiErrorDto, and the bearer scheme', () => {
    const doc = buildApiDocument(api.app) as unknown as {
      paths: Record<string, Record<string, Operation>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    const found = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    assert.deepEqual([...found].sort(), [...ROUTES].sort());
    assert.deepEqual(doc.components.securitySchemes['api-key'], {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'An API key whose SHA-256 is in api.keys.',
    });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        const codes = Object.keys(op.responses);
        for (const c of ['401', '403', '429', '500'])
          assert.ok(codes.includes(c), `${where} lacks ${c}`);
        assert.ok(
          codes.some((c) => /^2/.test(c)),
          `${where} has no success answer`,
        );
        for (const c of codes.filter((x) => /^[45]/.test(x))) {
          const schema = op.responses[c]!.content?.['application/json']?.schema;
          assert.equal(schema?.$ref, '#/components/schemas/ApiErrorDto', `${where} ${c}`);
        }
        assert.deepEqual(op.security, [{ 'api-key': [] }], `${where} security`);
        if (path.includes('{id}')) assert.ok(codes.includes('404'), `${where} lacks 404`);
        if (/post|put|patch/.test(method)) assert.ok(codes.includes('400'), `${where} lacks 400`);
        if (path.startsWith('/api/v1/calls') && method !== 'get') {
          for (const c of ['502', '503']) assert.ok(codes.includes(c), `${where} lacks ${c}`);
        }
      }
    }
  });

  it('is served at /api/docs-json, the same document', async () => {
    const res = await request(api.url).get('/api/docs-json').expect(200);
    assert.deepEqual(res.body, JSON.parse(JSON.stringify(buildApiDocument(api.app))));
  });
});
