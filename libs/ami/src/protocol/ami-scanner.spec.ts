import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AmiDecoder } from './ami-decoder';
import type { AmiPacket } from './ami-packet';
import { acquireScanner, RECORD_INTS, releaseScanner } from './ami-scanner';

/** The repository root (these tests run from dist/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Decodes the chunks with the scanner (default) and without it; both must agree. */
function decode(chunks: readonly (string | Buffer)[], maxPacketBytes?: number): AmiPacket[] {
  const results = [true, false].map((wasm) => {
    const packets: AmiPacket[] = [];
    const decoder = new AmiDecoder(
      {
        onPacket: (p) => packets.push(p),
        onError: (e) => assert.fail(`decoder error: ${e.message}`),
      },
      { expectBanner: false, wasm, ...(maxPacketBytes !== undefined ? { maxPacketBytes } : {}) },
    );
    for (const c of chunks) decoder.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
    return packets;
  });
  const [scanned, js] = results as [AmiPacket[], AmiPacket[]];
  assert.deepEqual(
    scanned.map((p) => [p.keys, p.values, p.output, p.actionId]),
    js.map((p) => [p.keys, p.values, p.output, p.actionId]),
    'the WebAssembly scanner and the JavaScript path disagree',
  );
  return scanned;
}

const packet = (pairs: readonly (readonly [string, string])[]): string =>
  pairs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';

describe('AmiScanner (the WebAssembly line scanner)', () => {
  it('the compiled copy (ami-scan.wasm.ts) is the source ami-scan.wat', () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot(), 'scripts', 'build-wasm.mjs'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('is used on this Node (WebAssembly SIMD available)', () => {
    const s = acquireScanner();
    assert.ok(
      s,
      'no scanner: WebAssembly SIMD is missing, the decoder runs its JavaScript path only',
    );
    releaseScanner(s);
  });

  it('finds the names it was taught (addName and the lookup in scan hash alike)', () => {
    const s = acquireScanner()!;
    try {
      const names = [
        'E',
        'Event',
        'Channel',
        'ChannelStateDesc',
        'ConnectedLineName',
        'N'.repeat(64),
      ];
      const input = Buffer.from(names.map((n) => `${n}: v\r\n`).join('') + '\r\n');
      const records = (): number[][] => {
        assert.equal(s.load(input, 0, input.length), true);
        const n = s.scan();
        const out: number[][] = [];
        for (let i = 0; i < n; i++) {
          const r = s.recordBase + i * RECORD_INTS;
          out.push([...s.records.subarray(r, r + RECORD_INTS)]);
        }
        return out;
      };
      const taught = records()
        .filter((r) => r[1]! >= 0)
        .map((r) => s.idOf(input.toString('latin1', r[0], r[1]), r[0]!, r[1]! - r[0]!));
      assert.ok(taught.every((id) => id >= 0));
      const found = records()
        .filter((r) => r[1]! >= 0)
        .map((r) => r[5]);
      assert.deepEqual(found, taught);
    } finally {
      releaseScanner(s);
    }
  });

  it('names past the 512 it learns, and names at every block size, decode exactly', () => {
    const names: string[] = [];
    for (let i = 0; i < 700; i++) names.push(`Name${i}`);
    for (const len of [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100]) {
      names.push('L'.repeat(len));
      // Differs from the one before only in its last byte (the cache compares every byte).
      names.push('L'.repeat(len - 1) + 'M');
    }
    const text = names
      .map((n, i) =>
        packet([
          ['Event', 'X'],
          [n, String(i)],
        ]),
      )
      .join('');
    // Twice: the second time most names are known.
    const packets = decode([text, text]);
    assert.equal(packets.length, names.length * 2);
    packets.forEach((p, i) => {
      const n = names[i % names.length]!;
      assert.deepEqual(p.keys, ['Event', n]);
      assert.equal(p.get(n), String(i % names.length));
    });
    // Full, it forgets and learns again: shapes are shared again from the next chunk on.
    const same = packet([
      ['Event', 'E'],
      ['Fresh', '1'],
    ]);
    decode([same]);
    const [q1, q2] = decode([same + same]);
    assert.equal(q1!.keys, q2!.keys);
  });

  it('names like Object.prototype members (__proto__, constructor) are names like any other', () => {
    const packets = decode([
      packet([
        ['__proto__', 'a'],
        ['constructor', 'b'],
        ['hasOwnProperty', 'c'],
      ]).repeat(2),
    ]);
    for (const p of packets) {
      assert.deepEqual(p.keys, ['__proto__', 'constructor', 'hasOwnProperty']);
      assert.equal(p.get('__proto__'), 'a');
    }
  });

  it('names with bytes over 0x7f, and values, are UTF-8', () => {
    const packets = decode([
      packet([
        ['Event', 'Тест'],
        ['Имя', 'Иванов Пётр'],
        ['CallerIDName', 'Пётр'],
      ]).repeat(3),
    ]);
    for (const p of packets) {
      assert.deepEqual(p.keys, ['Event', 'Имя', 'CallerIDName']);
      assert.deepEqual(p.values, ['Тест', 'Иванов Пётр', 'Пётр']);
    }
  });

  it('packets with the same names in the same order share one frozen name array', () => {
    const a = packet([
      ['Event', 'Newstate'],
      ['Channel', 'PJSIP/101-1'],
    ]);
    const b = packet([
      ['Event', 'Hangup'],
      ['Channel', 'PJSIP/102-2'],
    ]);
    const c = packet([
      ['Channel', 'PJSIP/103-3'],
      ['Event', 'Hangup'],
    ]);
    const [p1, p2, p3] = decode([a + b + c]);
    assert.equal(p1!.keys, p2!.keys);
    assert.notEqual(p1!.keys, p3!.keys);
    assert.ok(Object.isFrozen(p1!.keys));
    assert.deepEqual(p3!.keys, ['Channel', 'Event']);
  });

  it('more shapes than the trie keeps (8192 nodes) still decode exactly', () => {
    let text = '';
    const expected: string[][] = [];
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 100; j++) {
        text += packet([
          ['Event', 'E'],
          [`A${i}`, '1'],
          [`B${j}`, '2'],
        ]);
        expected.push(['Event', `A${i}`, `B${j}`]);
      }
    }
    const packets = decode([text]);
    assert.deepEqual(
      packets.map((p) => p.keys),
      expected,
    );
  });

  it('more UTF-8 values than it keeps decoded (2048) decode exactly', () => {
    let text = '';
    for (let i = 0; i < 3000; i++) text += packet([['CallerIDName', `Пётр ${i}`]]);
    const packets = decode([text, text]);
    packets.forEach((p, i) => assert.equal(p.get('CallerIDName'), `Пётр ${i % 3000}`));
  });

  it('a handler that feeds another decoder while one decodes (each gets its own scanner)', () => {
    const inner: AmiPacket[] = [];
    const innerDecoder = new AmiDecoder(
      { onPacket: (p) => inner.push(p), onError: (e) => assert.fail(e.message) },
      { expectBanner: false },
    );
    const outer: AmiPacket[] = [];
    const outerDecoder = new AmiDecoder(
      {
        onPacket: (p) => {
          outer.push(p);
          innerDecoder.push(Buffer.from(packet([['Inner', p.get('N')!]])));
        },
        onError: (e) => assert.fail(e.message),
      },
      { expectBanner: false },
    );
    let text = '';
    for (let i = 0; i < 3000; i++) text += packet([['N', String(i)]]);
    outerDecoder.push(Buffer.from(text));
    assert.equal(outer.length, 3000);
    assert.deepEqual(
      inner.map((p) => p.get('Inner')),
      outer.map((p) => p.get('N')),
    );
  });

  it('a scanner grown past 4 MiB for a big input is let go, not kept for reuse', () => {
    const s = acquireScanner()!;
    const big = Buffer.alloc(5 * 1024 * 1024, 0x41);
    assert.equal(s.load(big, 0, big.length), true);
    assert.ok(s.memoryBytes > 5 * 1024 * 1024);
    releaseScanner(s);
    const t = acquireScanner()!;
    assert.notEqual(t, s);
    releaseScanner(t);
  });

  it('a chunk past what the scanner holds at first (256 KiB) and past 8 MiB (JavaScript path)', () => {
    const one = packet([
      ['Event', 'Big'],
      ['Value', 'x'.repeat(1000)],
    ]);
    const big = one.repeat(300); // ~300 KiB
    assert.equal(decode([big]).length, 300);
    const huge = packet([
      ['Event', 'Huge'],
      ['Value', 'y'.repeat(9 * 1024 * 1024)],
    ]);
    const [p] = decode([huge], 16 * 1024 * 1024);
    assert.equal(p!.get('Value')!.length, 9 * 1024 * 1024);
  });
});
