import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lineKey, lineNameCaseOf, parseLineName } from './line-name';

describe('line names', () => {
  it('compares as the channel driver does: chan_sip without case, others exactly', () => {
    assert.equal(lineNameCaseOf('SIP/'), 'ignore-case');
    assert.equal(lineNameCaseOf('sip/'), 'ignore-case');
    assert.equal(lineNameCaseOf('PJSIP/'), 'exact');
    assert.equal(lineNameCaseOf('IAX2/'), 'exact');
    assert.equal(lineKey('OFFICE', 'ignore-case'), lineKey('office', 'ignore-case'));
    assert.notEqual(lineKey('OFFICE', 'exact'), lineKey('office', 'exact'));
  });

  it('takes a plain line name or a whole number, and says why anything else is not one', () => {
    assert.deepEqual(parseLineName(' 305 '), { line: '305' });
    assert.deepEqual(parseLineName(305), { line: '305' });
    assert.deepEqual(parseLineName('sales.team+1@x'), { line: 'sales.team+1@x' });
    const problem = (v: unknown): string => {
      const r = parseLineName(v);
      assert.ok('problem' in r, JSON.stringify(v));
      return r.problem;
    };
    assert.match(problem(Infinity), /not a whole line number/);
    assert.match(problem(-1), /not a whole line number/);
    assert.match(problem(2 ** 60), /not a whole line number/);
    assert.match(problem('SIP/305'), /without its channel technology/);
    assert.match(problem('a,b'), /may hold only/);
    assert.match(problem('x'.repeat(65)), /65 characters/);
    assert.match(problem(''), /empty/);
    assert.match(problem(null), /null is not a line name/);
    assert.match(problem({}), /an object is not a line name/);
  });
});
