import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessagingErrorCode } from '@app/messaging';
import { NO_DIAL_RULE, dialRewriteProblem, parseDialTarget, type DialRule } from './dial-number';

const LAB: DialRule = { prefix: '9', rewrites: ['+='], outsideMinLength: 7 };
const RU: DialRule = { prefix: '', rewrites: ['+7=8', '+=810'], outsideMinLength: 7 };

describe('parseDialTarget: numbers as a CRM shows them', () => {
  it('removes blanks, brackets, dashes and dots (no rule: the number as it is)', () => {
    for (const [input, exten] of [
      ['+7 (916) 123-45-67', '+79161234567'],
      ['8.916.123.45.67', '89161234567'],
      ['  305  ', '305'],
      ['+7\u00a0916\u00a0123\u201145\u201167', '+79161234567'],
      ['*72#', '*72#'],
    ]) {
      assert.deepEqual(parseDialTarget(input, NO_DIAL_RULE).exten, exten, input);
    }
  });

  it('applies the dial rule to outside numbers only: the lab (9 + number), Russia (+7 -> 8)', () => {
    assert.deepEqual(parseDialTarget('+7 (916) 123-45-67', LAB), {
      number: '+79161234567',
      exten: '979161234567',
      outside: true,
    });
    assert.equal(parseDialTarget('305', LAB).exten, '305');
    assert.equal(parseDialTarget('123456', LAB).exten, '123456');
    assert.equal(parseDialTarget('1234567', LAB).exten, '91234567');
    assert.equal(parseDialTarget('+7 916 123 45 67', RU).exten, '89161234567');
    assert.equal(parseDialTarget('+49 30 1234567', RU).exten, '81049301234567');
  });

  it('extension names pass as they are (letters, _ . @ -), without the rule', () => {
    assert.deepEqual(parseDialTarget('office', LAB), {
      number: 'office',
      exten: 'office',
      outside: false,
    });
    assert.equal(parseDialTarget('sales.desk', LAB).exten, 'sales.desk');
  });

  it('refuses anything else with InvalidArgument naming the target', () => {
    for (const bad of [
      '12; DROP',
      '',
      '305\r\nAction: Hangup',
      '1'.repeat(65),
      '+7 (916) x',
      'a b',
    ]) {
      assert.throws(
        () => parseDialTarget(bad, LAB),
        (e: Error & { code?: string }) =>
          e.code === MessagingErrorCode.InvalidArgument && /cannot be dialled/.test(e.message),
        JSON.stringify(bad),
      );
    }
    assert.throws(() => parseDialTarget(42 as unknown as string, LAB), /must be a string/);
  });

  it('dialRewriteProblem: from=to with digits only', () => {
    assert.equal(dialRewriteProblem('+7=8'), undefined);
    assert.equal(dialRewriteProblem('+='), undefined);
    assert.match(dialRewriteProblem('7') ?? '', /is not from=to/);
    assert.match(dialRewriteProblem('+7=8;x') ?? '', /digits/);
  });
});
