import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkDecoder,
  concat,
  eolArb,
  fragmentArb,
  maxArb,
  mutate,
  mutationArb,
  pointsArb,
  streamArb,
  traceBuffers,
  utf8,
  type Outcome,
} from '../../testing/decoder-properties';

/**
 * Property-based tests: well over 100,000 generated and mutated inputs per run (AMI-like packets,
 * fragments of AMI syntax, random bytes, mutations of the recorded traffic), each cut at random
 * points. For every input: no exception leaves the decoder, it never holds more than
 * maxPacketBytes, its only errors are AMI_PROTOCOL, and the result does not depend on the cuts,
 * nor on whether the WebAssembly line scanner or the JavaScript path read the lines, nor on whether
 * the chunks come in one read buffer used again (push(chunk, true)).
 */

const RUNS = {
  generated: 30_000,
  clean: 10_000,
  fragments: 25_000,
  mutated: 25_000,
  random: 20_000,
};

/** Inputs checked so far (each decoded whole and cut). */
let checked = 0;

/** No escape, bounded, and the same outcome whole and cut (counted). */
function check(
  data: Uint8Array,
  points: readonly number[],
  options: { maxPacketBytes: number; expectBanner: boolean },
): Outcome {
  const out = checkDecoder(data, points, options);
  checked += 1;
  return out;
}

const traces = traceBuffers();

describe('AmiDecoder properties (fast-check)', () => {
  it(`generated AMI-like streams (${RUNS.generated} runs)`, () => {
    fc.assert(
      fc.property(streamArb, pointsArb, maxArb, ({ banner, bytes }, points, max) => {
        check(bytes, points, { maxPacketBytes: max, expectBanner: banner });
      }),
      { numRuns: RUNS.generated },
    );
  });

  it(`clean generated packets decode to exactly what was generated (${RUNS.clean} runs)`, () => {
    const cleanKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_()-]{0,15}$/);
    const cleanValue = fc
      .string({ unit: 'grapheme', maxLength: 20 })
      .filter((v) => !/[\r\n]/.test(v) && !/^[ \t]/.test(v));
    const packets = fc.array(
      fc.array(fc.tuple(cleanKey, cleanValue), { minLength: 1, maxLength: 10 }).filter(
        // Not the old command form: that one is read differently on purpose.
        (p) => !(p[0]![0].toLowerCase() === 'response' && p[0]![1] === 'Follows'),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(packets, eolArb, pointsArb, (ps, eol, points) => {
        const text = ps.map((p) => p.map(([k, v]) => `${k}: ${v}${eol}`).join('') + eol).join('');
        const out = check(utf8(text), points, { maxPacketBytes: 1024 * 1024, expectBanner: false });
        assert.deepEqual(out.errors, []);
        assert.deepEqual(
          out.packets.map((s) => (JSON.parse(s) as [string[], string[]]).slice(0, 2)),
          ps.map((p) => [p.map((kv) => kv[0]), p.map((kv) => kv[1])]),
        );
      }),
      { numRuns: RUNS.clean },
    );
  });

  it(`fragments of AMI syntax mixed with random bytes (${RUNS.fragments} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(fragmentArb, { maxLength: 40 }),
        pointsArb,
        maxArb,
        fc.boolean(),
        (frags, points, max, banner) => {
          check(concat(frags), points, { maxPacketBytes: max, expectBanner: banner });
        },
      ),
      { numRuns: RUNS.fragments },
    );
  });

  it(`mutations of the recorded Asterisk traffic (${RUNS.mutated} runs)`, () => {
    assert.ok(traces.length > 0, 'the fixtures');
    fc.assert(
      fc.property(
        fc.nat({ max: traces.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 3000 }),
        fc.array(mutationArb, { maxLength: 6 }),
        pointsArb,
        maxArb,
        fc.boolean(),
        (t, start, len, mutations, points, max, banner) => {
          const data = mutate(traces[t]!, banner ? 0 : start, len, mutations);
          check(data, points, { maxPacketBytes: max, expectBanner: banner });
        },
      ),
      { numRuns: RUNS.mutated },
    );
  });

  it(`random bytes (${RUNS.random} runs)`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        pointsArb,
        maxArb,
        fc.boolean(),
        (data, points, max, banner) => {
          check(data, points, { maxPacketBytes: max, expectBanner: banner });
        },
      ),
      { numRuns: RUNS.random },
    );
  });

  it('checked at least 100,000 inputs in all', () => {
    assert.ok(checked >= 100_000, `${checked} inputs`);
  });
});
