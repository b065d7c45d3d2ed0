import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fixtureNames, readTrace, rxChunks } from '@app/ami/testing';
import { AmiError, AmiErrorCode } from '../ami.errors';
import { AmiDecoder } from './ami-decoder';
import type { AmiPacket } from './ami-packet';

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

interface Outcome {
  banners: string[];
  packets: string[];
  errors: string[];
}

/** One read buffer for the `reuse` runs, scribbled over after each push. */
const readBuffer = Buffer.alloc(64 * 1024);

function run(
  chunks: readonly Uint8Array[],
  options: { maxPacketBytes: number; expectBanner: boolean; wasm?: boolean; reuse?: boolean },
): Outcome {
  const out: Outcome = { banners: [], packets: [], errors: [] };
  const decoder = new AmiDecoder(
    {
      onBanner: (v, line) => out.banners.push(`${v}|${line}`),
      onPacket: (p: AmiPacket) => {
        // The decoder's ActionID hint finds what a lookup finds.
        assert.equal(p.actionId, p.get('ActionID'));
        out.packets.push(
          JSON.stringify([p.keys, p.values, p.output, p.toString(), p.actionId ?? null]),
        );
      },
      onError: (e) => {
        assert.ok(e instanceof AmiError, 'errors are AmiError');
        assert.equal(e.code, AmiErrorCode.Protocol);
        out.errors.push(e.message);
      },
    },
    options,
  );
  const cap = options.maxPacketBytes;
  for (const c of chunks) {
    if (options.reuse === true && c.byteLength <= readBuffer.length) {
      // Like a socket's onread buffer: the same memory for every read.
      readBuffer.set(c);
      decoder.push(readBuffer.subarray(0, c.byteLength), true);
      readBuffer.fill(0xaa);
    } else {
      decoder.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    }
    assert.ok(decoder.bufferedBytes < cap, `holds ${decoder.bufferedBytes} >= ${cap} bytes`);
    if (decoder.isFailed) assert.equal(decoder.bufferedBytes, 0, 'holds nothing after an error');
  }
  return out;
}

/** data cut at the given points (any numbers; taken modulo the length). */
function cut(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  if (data.length === 0) return [data];
  const at = [...new Set(points.map((p) => p % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...at, data.length]) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Inputs checked so far (each decoded whole and cut). */
let checked = 0;

/** No escape, bounded, and the same outcome whole and cut. */
function check(
  data: Uint8Array,
  points: readonly number[],
  options: { maxPacketBytes: number; expectBanner: boolean },
): Outcome {
  const whole = run([data], options);
  const pieces = run(cut(data, points), options);
  assert.deepEqual(pieces, whole);
  // Read into one buffer filled again and again: what the decoder keeps is its own copy.
  assert.deepEqual(run(cut(data, points), { ...options, reuse: true }), whole);
  // The WebAssembly scanner (the default) and the JavaScript path find the same packets.
  const js = run([data], { ...options, wasm: false });
  assert.deepEqual(js, whole);
  checked += 1;
  return whole;
}

const enc = new TextEncoder();
const utf8 = (s: string): Uint8Array => enc.encode(s);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

// ---- generated AMI-like packets ----

const keyArb = fc.oneof(
  fc.constantFrom(
    'Event',
    'Response',
    'ActionID',
    'actionid',
    'ACTIONID',
    'Channel',
    'CallerIDName',
    'ChanVariable',
    'ChanVariable(X)',
    'Variable',
    'Output',
    'Message',
    'event',
    'RESPONSE',
    'Key ',
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,12}$/),
);
const valueArb = fc.oneof(
  fc.constantFrom(
    'Success',
    'Follows',
    'Newchannel',
    '',
    'Иванов Пётр',
    'a: b',
    ' lead',
    '<unknown>',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
const eolArb = fc.constantFrom('\r\n', '\n');
const lineArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(keyArb, valueArb, eolArb).map(([k, v, e]) => `${k}: ${v}${e}`) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 20 }), eolArb).map(([t, e]) => t + e) },
);
const followsArb = fc
  .tuple(fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), eolArb)
  .map(
    ([out, e]) =>
      `Response: Follows${e}Privilege: Command${e}${out.map((o) => o.replace(/-/g, '') + '\n').join('')}--END COMMAND--${e}${e}`,
  );
const packetArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(lineArb, { minLength: 1, maxLength: 8 }), eolArb)
      .map(([ls, e]) => ls.join('') + e),
  },
  { weight: 1, arbitrary: followsArb },
);
const streamArb = fc
  .tuple(
    fc.constantFrom(
      '',
      'Asterisk Call Manager/9.0.0\r\n',
      'Asterisk Call Manager/1.1\n',
      'garbage\r\n',
    ),
    fc.array(fc.tuple(fc.constantFrom('', '\r\n', '\n'), packetArb), { maxLength: 8 }),
    fc.string({ maxLength: 30 }),
  )
  .map(([banner, packets, tail]) => ({
    banner: banner !== '',
    bytes: utf8(banner + packets.map(([gap, p]) => gap + p).join('') + tail),
  }));

const pointsArb = fc.array(fc.nat(), { maxLength: 10 });
const maxArb = fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constant(1024 * 1024));

// ---- fragments of AMI syntax and raw bytes ----

const fragmentArb = fc.oneof(
  fc
    .constantFrom(
      '\r\n',
      '\n',
      '\r',
      ':',
      ': ',
      'Event: ',
      'Response: Follows\r\n',
      'Response: Success\r\n',
      '--END COMMAND--',
      '\r\n\r\n',
      '\n\n',
      'Asterisk Call Manager/9.0.0\r\n',
      'Пётр',
      '\u00ff',
    )
    .map(utf8),
  fc.uint8Array({ maxLength: 24 }),
);

// ---- mutations of the recorded traffic ----

const traces = fixtureNames().map((n) => Buffer.concat(rxChunks(readTrace(n))));
type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(fragmentArb, fc.constantFrom(utf8('\r\n'), utf8('\n'), utf8(':'))),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 300 }),
  }),
);

function mutate(
  src: Buffer,
  start: number,
  len: number,
  mutations: readonly Mutation[],
): Uint8Array {
  const from = start % src.length;
  let b = Buffer.from(src.subarray(from, from + len));
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'flip') {
      if (at < b.length) b[at] = m.byte;
    } else if (m.kind === 'insert') {
      b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    } else if (m.kind === 'delete') {
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    } else {
      b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.len), b.subarray(at)]);
    }
  }
  return new Uint8Array(b);
}

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
