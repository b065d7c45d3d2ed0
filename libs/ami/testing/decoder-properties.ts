/**
 * Owns the generators and the invariants of the AMI decoder's property tests and of `npm run
 * fuzz`: AMI-like streams, fragments of AMI syntax, mutations of the recorded traffic, random
 * bytes; and the check that an input decodes without an escaping exception, within
 * maxPacketBytes, to the same outcome whole and cut, through a reused read buffer, and with or
 * without the WebAssembly scanner. Test-only (fast-check is a devDependency): not in the barrel.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AmiDecoder, AmiError, AmiErrorCode, type AmiPacket } from '@app/ami';
import { readTrace, rxChunks, fixtureNames } from './fixtures';

export interface Outcome {
  banners: string[];
  packets: string[];
  errors: string[];
}

/** One read buffer for the `reuse` runs, scribbled over after each push. */
const readBuffer = Buffer.alloc(64 * 1024);

export function run(
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
export function cut(data: Uint8Array, points: readonly number[]): Uint8Array[] {
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

/** No escape, bounded, and the same outcome whole and cut. */
export function checkDecoder(
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
  return whole;
}

const enc = new TextEncoder();
export const utf8 = (s: string): Uint8Array => enc.encode(s);

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

// ---- generated AMI-like packets ----

export const keyArb = fc.oneof(
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
export const valueArb = fc.oneof(
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
export const eolArb = fc.constantFrom('\r\n', '\n');
export const lineArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(keyArb, valueArb, eolArb).map(([k, v, e]) => `${k}: ${v}${e}`) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 20 }), eolArb).map(([t, e]) => t + e) },
);
export const followsArb = fc
  .tuple(fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), eolArb)
  .map(
    ([out, e]) =>
      `Response: Follows${e}Privilege: Command${e}${out.map((o) => o.replace(/-/g, '') + '\n').join('')}--END COMMAND--${e}${e}`,
  );
export const packetArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(lineArb, { minLength: 1, maxLength: 8 }), eolArb)
      .map(([ls, e]) => ls.join('') + e),
  },
  { weight: 1, arbitrary: followsArb },
);
export const streamArb = fc
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

export const pointsArb = fc.array(fc.nat(), { maxLength: 10 });
export const maxArb = fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constant(1024 * 1024));

// ---- fragments of AMI syntax and raw bytes ----

export const fragmentArb = fc.oneof(
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

/** The recorded Asterisk traffic of every fixture, each as one buffer. */
export function traceBuffers(): Buffer[] {
  return fixtureNames().map((n) => Buffer.concat(rxChunks(readTrace(n))));
}
export type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number };
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
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

export function mutate(
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
