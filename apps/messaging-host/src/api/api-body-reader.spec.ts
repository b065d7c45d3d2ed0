import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestException } from '@nestjs/common';
import { jsonDepth, parseJsonBody, reservedNamePath } from './api-body-reader';

describe('REST body reader', () => {
  it('jsonDepth counts nesting without parsing, skipping strings, and stops past the limit', () => {
    assert.equal(jsonDepth('{"a":[1,{"b":2}]}', 16), 3);
    assert.equal(jsonDepth('{"a":"[[[[{{{{"}', 16), 1);
    assert.equal(jsonDepth('{"a":"\\"[[["}', 16), 1);
    assert.equal(jsonDepth('['.repeat(100_000), 16), 17);
  });

  it('reservedNamePath finds __proto__, constructor and prototype at any depth', () => {
    assert.equal(reservedNamePath(JSON.parse('{"a":{"b":[{"__proto__":1}]}}')), 'a.b[0].__proto__');
    assert.equal(reservedNamePath({ a: { constructor: 1 } }), 'a.constructor');
    assert.equal(reservedNamePath({ a: 1 }), undefined);
  });

  it('parseJsonBody: 400s name the problem, never quote the body', () => {
    const reason = (bytes: Buffer): string => {
      try {
        parseJsonBody(bytes, 4);
      } catch (e) {
        assert.ok(e instanceof BadRequestException);
        return JSON.stringify(e.getResponse());
      }
      return 'parsed';
    };
    assert.match(reason(Buffer.from('[[[[[1]]]]]')), /deeper than 4 levels/);
    assert.match(reason(Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8/);
    const bad = reason(Buffer.from('{"secret-token-xyz"'));
    assert.match(bad, /not valid JSON/);
    assert.ok(!bad.includes('secret-token-xyz'), bad);
    assert.equal(reason(Buffer.from('{"a":[1]}')), 'parsed');
  });
});
