import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureNames, readTrace, rxChunks } from '@app/ami/testing';
import { AmiError, AmiErrorCode } from '../ami.errors';
import { AmiDecoder, MAX_BANNER_BYTES, type AmiDecoderOptions } from './ami-decoder';
import type { AmiPacket } from './ami-packet';

interface Decoded {
  banners: string[];
  /** Each packet field for field: keys, values, output lines and its text. */
  packets: string[];
  errors: AmiError[];
}

/** A packet compared field for field (keys, values, output) and byte for byte (its text). */
function fingerprint(p: AmiPacket): string {
  return JSON.stringify([p.keys, p.values, p.output, p.toString()]);
}

function collect(options: AmiDecoderOptions = {}): { decoder: AmiDecoder; out: Decoded } {
  const out: Decoded = { banners: [], packets: [], errors: [] };
  const decoder = new AmiDecoder(
    {
      onBanner: (version, line) => out.banners.push(`${version}|${line}`),
      onPacket: (p) => out.packets.push(fingerprint(p)),
      onError: (e) => out.errors.push(e),
    },
    options,
  );
  return { decoder, out };
}

function decode(chunks: readonly Buffer[], options: AmiDecoderOptions = {}): Decoded {
  const { decoder, out } = collect(options);
  for (const c of chunks) decoder.push(c);
  return out;
}

function packetsOf(chunks: readonly Buffer[], options: AmiDecoderOptions = {}): AmiPacket[] {
  const packets: AmiPacket[] = [];
  const decoder = new AmiDecoder(
    {
      onPacket: (p) => packets.push(p),
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner: false, ...options },
  );
  for (const c of chunks) decoder.push(c);
  return packets;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

function bytewise(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

/**
 * The stream cut where the decoder must be empty again: the banner line, then each packet up to
 * and including its empty line (found here on the bytes, independently of the decoder).
 */
function segments(stream: Buffer, banner: boolean): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  if (banner) {
    const nl = stream.indexOf(0x0a);
    out.push(stream.subarray(0, nl + 1));
    pos = nl + 1;
  }
  while (pos < stream.length) {
    const a = stream.indexOf('\n\r\n', pos);
    const b = stream.indexOf('\n\n', pos);
    const end =
      a === -1 && b === -1 ? stream.length : a !== -1 && (b === -1 || a < b) ? a + 3 : b + 2;
    out.push(stream.subarray(pos, end));
    pos = end;
  }
  return out;
}

/** Every way of cutting buf in two (at each offset), decoded; each must equal `expected`. */
function assertSplitsEqual(
  buf: Buffer,
  expected: Decoded,
  options: AmiDecoderOptions,
  what: string,
): void {
  for (let o = 1; o < buf.length; o++) {
    const got = decode([buf.subarray(0, o), buf.subarray(o)], options);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      assert.deepEqual(got, expected, `${what}: split at byte ${o}`);
    }
  }
}

describe('AmiDecoder on the recorded Asterisk 20 traffic', () => {
  const names = fixtureNames();

  it('finds the fixtures', () => {
    assert.ok(names.length >= 10, `expected the recorded traces, found ${names.length}`);
  });

  for (const name of names) {
    describe(name, () => {
      const records = readTrace(name);
      const conns = [...new Set(records.filter((r) => r.dir === 'rx').map((r) => r.conn))];
      for (const conn of conns) {
        const chunks = rxChunks(records, conn);
        const stream = Buffer.concat(chunks);
        const whole = decode([stream]);

        it(`conn ${conn}: decodes whole: the banner, then one packet per empty line`, () => {
          assert.deepEqual(whole.errors, []);
          assert.deepEqual(whole.banners, ['9.0.0|Asterisk Call Manager/9.0.0']);
          // Counted here without the decoder: pieces between empty lines that hold text.
          const body = stream.toString('utf8').slice(stream.indexOf(0x0a) + 1);
          const pieces = body.split(/\n\r?\n/).filter((s) => s.replace(/[\r\n]/g, '') !== '');
          assert.equal(whole.packets.length, pieces.length);
          for (const text of whole.packets) {
            const [keys] = JSON.parse(text) as [string[]];
            assert.ok(['Event', 'Response'].includes(keys[0]!), `first header ${keys[0]}`);
          }
        });

        it(`conn ${conn}: as recorded (read by read) equals whole`, () => {
          assert.deepEqual(decode(chunks), whole);
        });

        it(`conn ${conn}: byte by byte equals whole`, () => {
          assert.deepEqual(decode(bytewise(stream)), whole);
        });

        it(`conn ${conn}: split in two at every byte offset equals whole`, () => {
          // The decoder is empty between packets, so a cut only matters inside the packet around
          // it: every packet (and the banner) is cut at each of its own offsets, on a new decoder
          // (the banner on one that expects it), and must give what it gives whole.
          const segs = segments(stream, true);
          const joined: Decoded = { banners: [], packets: [], errors: [] };
          segs.forEach((seg, i) => {
            const options = { expectBanner: i === 0 };
            const expected = decode([seg], options);
            joined.banners.push(...expected.banners);
            joined.packets.push(...expected.packets);
            joined.errors.push(...expected.errors);
            assertSplitsEqual(seg, expected, options, `${name} conn ${conn} segment ${i}`);
          });
          // The pieces together are the whole stream.
          assert.deepEqual(joined, whole);
        });

        it(`conn ${conn}: a decoder reused after reset() decodes it again`, () => {
          const { decoder, out } = collect();
          decoder.push(stream);
          decoder.reset();
          for (const c of chunks) decoder.push(c);
          assert.deepEqual(out.packets, [...whole.packets, ...whole.packets]);
          assert.equal(decoder.bufferedBytes, 0);
        });
      }
    });
  }

  it('reads the Park answer whose Message line ends with a bare LF', () => {
    const stream = Buffer.concat(rxChunks(readTrace('e1_park_unpark')));
    const packets: AmiPacket[] = [];
    const d = new AmiDecoder({ onPacket: (p) => packets.push(p), onError: (e) => assert.fail(e) });
    d.push(stream);
    const park = packets.find((p) => p.actionId === 'park-2');
    assert.ok(park, 'the Park answer');
    assert.equal(park.response, 'Success');
    assert.equal(park.get('Message'), 'Park successful');
    assert.deepEqual(park.keys, ['Response', 'ActionID', 'Message']);
    // The stray CRLF after it is not a packet: the next one is an event.
    const next = packets[packets.indexOf(park) + 1];
    assert.ok(next?.event, 'an event follows');
  });
});

describe('AmiDecoder line ends and headers', () => {
  it('accepts CRLF, bare LF and both mixed, with the same packets', () => {
    const crlf = packetsOf([bytes('Event: Hangup\r\nChannel: SIP/305-0001\r\nCause: 16\r\n\r\n')]);
    const lf = packetsOf([bytes('Event: Hangup\nChannel: SIP/305-0001\nCause: 16\n\n')]);
    const mixed = packetsOf([bytes('Event: Hangup\nChannel: SIP/305-0001\r\nCause: 16\n\r\n')]);
    for (const p of [crlf, lf, mixed]) {
      assert.equal(p.length, 1);
      assert.deepEqual(p[0]!.keys, ['Event', 'Channel', 'Cause']);
      assert.deepEqual(p[0]!.values, ['Hangup', 'SIP/305-0001', '16']);
    }
  });

  it('reads many packets per chunk and ignores empty lines between them', () => {
    const p = packetsOf([bytes('\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\n\n\nEvent: C\r\n\r\n')]);
    assert.deepEqual(
      p.map((x) => x.event),
      ['A', 'B', 'C'],
    );
  });

  it('keeps values as sent: colons inside, empty values, spaces after the colon', () => {
    const [p] = packetsOf([
      bytes(
        'Event: X\r\nCID-CallingPres: 0 (Presentation Allowed, Not Screened)\r\nAccountCode: \r\nUrl:http://h:80/a\r\nKey  :   v  \r\n\r\n',
      ),
    ]);
    assert.equal(p!.get('CID-CallingPres'), '0 (Presentation Allowed, Not Screened)');
    assert.equal(p!.get('AccountCode'), '');
    assert.equal(p!.get('Url'), 'http://h:80/a');
    assert.equal(p!.get('Key'), 'v  ');
  });

  it('finds ActionID in any case, the exact spelling first, also beside UTF-8 values', () => {
    const [a, b, c, d] = packetsOf([
      bytes(
        'Response: Success\r\nActionID: Пётр-1\r\n\r\n' +
          'Response: Success\r\nactionid: x\r\nActionID: y\r\n\r\n' +
          'Event: X\r\nACTIONID: z\r\nActionId: w\r\n\r\n' +
          'Event: Newchannel\r\nPriority: 1\r\nUniqueid: 1.2\r\nLinkedid: 1.2\r\n\r\n',
      ),
    ]);
    assert.equal(a!.actionId, 'Пётр-1');
    assert.equal(b!.actionId, 'y');
    assert.equal(c!.actionId, 'z');
    assert.equal(d!.actionId, undefined);
    for (const p of [a, b, c, d]) assert.equal(p!.actionId, p!.get('ActionID'));
  });

  it('matches keys without regard to case and keeps their wire spelling', () => {
    const [p] = packetsOf([
      bytes('EVENT: Newchannel\r\nactionid: 7\r\nUniqueID: 1795582075.5\r\n\r\n'),
    ]);
    assert.equal(p!.event, 'Newchannel');
    assert.equal(p!.get('event'), 'Newchannel');
    assert.equal(p!.actionId, '7');
    assert.equal(p!.get('Uniqueid'), '1795582075.5');
    assert.equal(p!.get('UNIQUEID'), '1795582075.5');
    assert.deepEqual(p!.keys, ['EVENT', 'actionid', 'UniqueID']);
    assert.equal(p!.get('Missing'), undefined);
  });

  it('keeps repeated keys in order: ChanVariable as list and map (both spellings), Variable, Output', () => {
    const [p] = packetsOf([
      bytes(
        'Event: Newchannel\r\nChanVariable: CDR(dst)=305\r\nchanvariable: FROM_DID=74951234567\r\n' +
          'ChanVariable(QUEUE): support\r\nVariable: a=1\r\nVariable: b=x=y\r\n' +
          'Output: line 1\r\nOutput: \r\nOutput: line 3\r\n\r\n',
      ),
    ]);
    assert.deepEqual(p!.chanVariableList, ['CDR(dst)=305', 'FROM_DID=74951234567']);
    assert.deepEqual(
      [...p!.chanVariables],
      [
        ['CDR(dst)', '305'],
        ['FROM_DID', '74951234567'],
        ['QUEUE', 'support'],
      ],
    );
    assert.deepEqual(p!.variables, ['a=1', 'b=x=y']);
    assert.deepEqual(p!.getAll('variable'), ['a=1', 'b=x=y']);
    assert.deepEqual(p!.output, ['line 1', '', 'line 3']);
    assert.deepEqual(p!.toObject()['Output'], ['line 1', '', 'line 3']);
  });

  it('reads long header names right, also names alike but for one character', () => {
    // Same length and same characters where the cache of long names looks: only a full compare
    // tells them apart.
    const text =
      'Event: X\r\nDestChannelStateDesc: a\r\nDestChannelStateDesk: b\r\n\r\n' +
      'Event: Y\r\nDestChannelStateDesk: c\r\nDestChannelStateDesc: d\r\nConnectedLineName: e\r\n\r\n';
    const [x, y] = packetsOf([bytes(text)]);
    assert.deepEqual(x!.keys, ['Event', 'DestChannelStateDesc', 'DestChannelStateDesk']);
    assert.deepEqual(y!.keys, [
      'Event',
      'DestChannelStateDesk',
      'DestChannelStateDesc',
      'ConnectedLineName',
    ]);
    assert.equal(y!.get('destchannelstatedesc'), 'd');
  });

  it('keeps lines without a colon apart from the headers', () => {
    const [p] = packetsOf([bytes('Response: Success\r\nsome text\r\n:no key\r\n\r\n')]);
    assert.deepEqual(p!.keys, ['Response']);
    assert.deepEqual(p!.output, ['some text', ':no key']);
  });
});

describe('AmiDecoder command output', () => {
  it('reads the Asterisk >= 14 form (Output: lines) as in the fixture', () => {
    const stream = Buffer.concat(rxChunks(readTrace('a1_idle_login_status')));
    const packets: AmiPacket[] = [];
    const d = new AmiDecoder({ onPacket: (p) => packets.push(p), onError: (e) => assert.fail(e) });
    d.push(stream);
    const answer = packets.find((p) => p.actionId === 'command-16');
    assert.ok(answer);
    assert.equal(answer.response, 'Success');
    assert.equal(answer.output.length, 1);
    assert.match(answer.output[0]!, /^Asterisk 20\.20\.1 built by/);
  });

  const old =
    'Response: Follows\r\nPrivilege: Command\r\nActionID: cmd-1\r\n' +
    'Channel              Location             State   Application(Data)\n' +
    '\n' +
    'SIP/305-00000004     s@from-internal:1    Up      Dial(SIP/306)\n' +
    '\n\n' +
    '1 active channel\n' +
    '--END COMMAND--\r\n\r\n';
  const after = 'Event: FullyBooted\r\nPrivilege: system,all\r\n\r\n';

  it('reads the old Response: Follows form whole, empty lines inside the output included', () => {
    const p = packetsOf([bytes(old + after)]);
    assert.equal(p.length, 2);
    const [cmd, next] = p;
    assert.equal(cmd!.response, 'Follows');
    assert.equal(cmd!.actionId, 'cmd-1');
    assert.deepEqual(cmd!.keys, ['Response', 'Privilege', 'ActionID']);
    assert.deepEqual(cmd!.output, [
      'Channel              Location             State   Application(Data)',
      '',
      'SIP/305-00000004     s@from-internal:1    Up      Dial(SIP/306)',
      '',
      '',
      '1 active channel',
    ]);
    assert.equal(next!.event, 'FullyBooted');
    // Its text decodes back to the same packet.
    const again = packetsOf([bytes(cmd!.toString())]);
    assert.deepEqual(
      again.map((x) => fingerprint(x)),
      [fingerprint(cmd!)],
    );
  });

  it('reads the old form the same when split anywhere or byte by byte', () => {
    const buf = bytes(old + after);
    const expected = decode([buf], { expectBanner: false });
    assert.equal(expected.packets.length, 2);
    assertSplitsEqual(buf, expected, { expectBanner: false }, 'old command form');
    assert.deepEqual(decode(bytewise(buf), { expectBanner: false }), expected);
  });

  it('reads a long old-form answer with many empty lines fed a few bytes at a time', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? '' : `line ${i}`));
    const text =
      'Response: Follows\r\nPrivilege: Command\r\n' +
      lines.map((l) => `${l}\n`).join('') +
      '--END COMMAND--\r\n\r\n' +
      after;
    const buf = bytes(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 5) chunks.push(buf.subarray(i, i + 5));
    const p = packetsOf(chunks);
    assert.equal(p.length, 2);
    assert.deepEqual(p[0]!.output, lines);
    assert.equal(p[1]!.event, 'FullyBooted');
  });

  it('reads the marker at the end of the last output line', () => {
    const [p] = packetsOf([
      bytes('Response: Follows\r\nPrivilege: Command\r\nNo such command\n--END COMMAND--\r\n\r\n'),
    ]);
    assert.deepEqual(p!.output, ['No such command']);
    const [q] = packetsOf([
      bytes('Response: Follows\r\nPrivilege: Command\r\nlast--END COMMAND--\r\n\r\n'),
    ]);
    assert.deepEqual(q!.output, ['last']);
  });

  it('waits for the marker when an old-form answer stops at an empty line', () => {
    const got: AmiPacket[] = [];
    const d = new AmiDecoder(
      { onPacket: (p) => got.push(p), onError: (e) => assert.fail(e) },
      { expectBanner: false },
    );
    d.push(bytes('Response: Follows\r\nPrivilege: Command\r\nline 1\n\n'));
    assert.equal(got.length, 0);
    assert.ok(d.bufferedBytes > 0);
    d.push(bytes('line 3\n--END COMMAND--\r\n\r\n'));
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.output, ['line 1', '', 'line 3']);
    assert.equal(d.bufferedBytes, 0);
  });

  it('a Response: Follows line after a stray marker line is not an old-form answer (scanner and JavaScript path agree)', () => {
    // Found by the property test: the scanner took the packet's second line for its first.
    const input = bytes('--END COMMAND--\r\nResponse: Follows\r\n\r\n');
    for (const wasm of [true, false]) {
      const got = packetsOf([input], { expectBanner: false, wasm });
      assert.deepEqual(
        got.map((p) => [p.keys, p.values, p.output]),
        [[['Response'], ['Follows'], []]],
        `wasm: ${wasm}`,
      );
    }
  });
});

describe('AmiDecoder UTF-8', () => {
  const text =
    'Event: Newchannel\r\nChannel: SIP/trunk-in-00000003\r\nCallerIDName: Иванов Пётр Сергеевич\r\n' +
    'ConnectedLineName: Оператор 305\r\n\r\n';
  const buf = bytes(text);

  it('decodes Cyrillic values', () => {
    const [p] = packetsOf([buf]);
    assert.equal(p!.get('CallerIDName'), 'Иванов Пётр Сергеевич');
    assert.equal(p!.get('ConnectedLineName'), 'Оператор 305');
  });

  it('gives the same packet when split inside a character, at every offset and byte by byte', () => {
    const expected = decode([buf], { expectBanner: false });
    // Offsets that fall inside a two-byte character exist: the test cuts them.
    const inside = [...Array(buf.length).keys()].filter((i) => (buf[i]! & 0xc0) === 0x80);
    assert.ok(inside.length > 20);
    assertSplitsEqual(buf, expected, { expectBanner: false }, 'Cyrillic');
    assert.deepEqual(decode(bytewise(buf), { expectBanner: false }), expected);
  });

  it('decodes mixed scripts in one chunk, packet after packet', () => {
    const names = ['Пётр', 'José', 'Ελένη', 'Юлия', '日本', 'Zoë 😀', 'plain', 'Ёж', 'Łukasz'];
    const text = names
      .map(
        (n, i) =>
          `Event: Newchannel\r\nCallerIDName: ${n}\r\nExten: ${i}\r\nConnectedLineName: ${n}${n}\r\n\r\n`,
      )
      .join('');
    const packets = packetsOf([bytes(text)]);
    assert.deepEqual(
      packets.map((p) => [p.get('CallerIDName'), p.get('ConnectedLineName')]),
      names.map((n) => [n, n + n]),
    );
  });

  it('decodes a Cyrillic header name too', () => {
    const [p] = packetsOf([bytes('Event: UserEvent\r\nИмя: Пётр\r\n\r\n')]);
    assert.equal(p!.get('Имя'), 'Пётр');
  });
});

describe('AmiDecoder maximum packet size', () => {
  const packet = (size: number): Buffer => {
    // `Event: X\r\nData: xxxx\r\n\r\n` of exactly `size` bytes.
    const head = 'Event: X\r\nData: ';
    const tail = '\r\n\r\n';
    return bytes(head + 'x'.repeat(size - head.length - tail.length) + tail);
  };

  it('accepts a packet of exactly maxPacketBytes, whole and split anywhere', () => {
    const buf = packet(200);
    const options = { expectBanner: false, maxPacketBytes: 200 };
    const expected = decode([buf], options);
    assert.equal(expected.packets.length, 1);
    assert.deepEqual(expected.errors, []);
    assertSplitsEqual(buf, expected, options, 'packet at the cap');
  });

  it('refuses a packet one byte over, whole, split and byte by byte, never holding more than the cap', () => {
    const buf = Buffer.concat([packet(100), packet(201), packet(100)]);
    const options = { expectBanner: false, maxPacketBytes: 200 };
    for (const chunks of [[buf], bytewise(buf), [buf.subarray(0, 150), buf.subarray(150)]]) {
      const { decoder, out } = collect(options);
      for (const c of chunks) {
        decoder.push(c);
        assert.ok(decoder.bufferedBytes <= 200, `held ${decoder.bufferedBytes} bytes`);
      }
      assert.equal(out.packets.length, 1, 'the packet before it');
      assert.equal(out.errors.length, 1);
      assert.ok(out.errors[0] instanceof AmiError);
      assert.equal(out.errors[0]!.code, AmiErrorCode.Protocol);
      assert.match(out.errors[0]!.message, /maxPacketBytes \(200 bytes\)/);
      assert.equal(decoder.isFailed, true);
      assert.equal(decoder.bufferedBytes, 0, 'holds nothing after the error');
    }
  });

  it('fails as soon as an unfinished packet reaches the cap, and ignores input until reset()', () => {
    const { decoder, out } = collect({ expectBanner: false, maxPacketBytes: 1000 });
    const line = bytes('Data: ' + 'y'.repeat(90) + '\r\n');
    decoder.push(bytes('Event: Big\r\n'));
    for (let i = 0; i < 50 && !decoder.isFailed; i++) {
      decoder.push(line);
      assert.ok(decoder.bufferedBytes < 1000);
    }
    assert.equal(out.errors.length, 1);
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(bytes('Event: After\r\n\r\n'));
    assert.equal(out.packets.length, 0, 'nothing after the error');
    decoder.reset();
    assert.equal(decoder.isFailed, false);
    decoder.push(bytes('Event: After\r\n\r\n'));
    assert.equal(out.packets.length, 1);
  });

  it('defaults to 1 MiB and refuses a bad cap', () => {
    const { decoder, out } = collect({ expectBanner: false });
    decoder.push(bytes('Event: Big\r\nData: '));
    decoder.push(Buffer.alloc(1024 * 1024, 0x61));
    assert.equal(out.errors.length, 1);
    assert.throws(
      () =>
        new AmiDecoder(
          { onPacket: () => undefined, onError: () => undefined },
          { maxPacketBytes: 0 },
        ),
      RangeError,
    );
  });
});

describe('AmiDecoder banner', () => {
  it('reports the version and line, then the packets of the same chunk', () => {
    const out = decode([
      bytes('Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nMessage: ok\r\n\r\n'),
    ]);
    assert.deepEqual(out.banners, ['9.0.0|Asterisk Call Manager/9.0.0']);
    assert.equal(out.packets.length, 1);
    assert.deepEqual(out.errors, []);
  });

  it('accepts a banner ending with a bare LF, split byte by byte', () => {
    const out = decode(bytewise(bytes('Asterisk Call Manager/2.10.6\nEvent: A\n\n')));
    assert.deepEqual(out.banners, ['2.10.6|Asterisk Call Manager/2.10.6']);
    assert.equal(out.packets.length, 1);
  });

  it('refuses a first line that is not a banner (e.g. HTTP or a packet)', () => {
    for (const first of [
      'HTTP/1.1 200 OK\r\n',
      'Response: Success\r\n',
      '\r\n',
      'SSH-2.0-OpenSSH_9.6\r\n',
    ]) {
      const out = decode([bytes(first + 'Event: A\r\n\r\n')]);
      assert.equal(out.errors.length, 1, first);
      assert.equal(out.errors[0]!.code, AmiErrorCode.Protocol);
      assert.match(out.errors[0]!.message, /not an AMI server/);
      assert.deepEqual(out.packets, []);
    }
  });

  it(`refuses a banner line over ${MAX_BANNER_BYTES} bytes, holding no more`, () => {
    const { decoder, out } = collect();
    for (let i = 0; i < 20 && !decoder.isFailed; i++) {
      decoder.push(Buffer.alloc(100, 0x41));
      assert.ok(decoder.bufferedBytes < MAX_BANNER_BYTES);
    }
    assert.equal(out.errors.length, 1);
    assert.match(out.errors[0]!.message, /no AMI banner/);
  });

  it('keeps the banner under a smaller maxPacketBytes too', () => {
    const { decoder, out } = collect({ maxPacketBytes: 40 });
    decoder.push(bytes('Asterisk Call Manager/9.0.0 '));
    assert.ok(decoder.bufferedBytes < 40);
    decoder.push(bytes('with a long tail\r\n'));
    assert.equal(out.errors.length, 1);
    assert.match(out.errors[0]!.message, /no AMI banner in the first 40 bytes/);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('does not wait for a banner when told so (replay)', () => {
    const out = decode([bytes('Event: A\r\n\r\n')], { expectBanner: false });
    assert.deepEqual(out.banners, []);
    assert.equal(out.packets.length, 1);
  });

  it('stops when a handler resets it, and starts over after', () => {
    const seen: string[] = [];
    const d: AmiDecoder = new AmiDecoder(
      {
        onPacket: (p) => {
          seen.push(p.event ?? '');
          if (p.event === 'Shutdown') d.reset();
        },
        onError: (e) => assert.fail(e),
      },
      {},
    );
    d.push(bytes('Asterisk Call Manager/9.0.0\r\nEvent: Shutdown\r\n\r\nEvent: Lost\r\n\r\n'));
    assert.deepEqual(seen, ['Shutdown']);
    assert.equal(d.bufferedBytes, 0);
    d.push(bytes('Asterisk Call Manager/9.0.0\r\nEvent: FullyBooted\r\n\r\n'));
    assert.deepEqual(seen, ['Shutdown', 'FullyBooted']);
  });
});
