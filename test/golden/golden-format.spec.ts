// The golden-file format (parse errors, comparison) and the golden files themselves: one per
// recorded fixture, each consistent with the protocol's rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureNames } from '@app/ami/testing';
import {
  CallDirection,
  CallState,
  callFeaturesFor,
  CONSULT_PRIMARY_FEATURES,
} from '@app/messaging';
import {
  compareGolden,
  formatGoldenEvent,
  goldenDir,
  GoldenFormatError,
  loadGoldenFile,
  parseGoldenFile,
  type GoldenActualEvent,
  type GoldenEvent,
  type GoldenFile,
} from './golden-format';

const SAMPLE = `# a sample
@config protocol=PJSIP/
@line 405   # the line
@line 406
405 5 id=A state=1 old=0 dir=IN caller=79161234567 called=405 features=8
405 7 id=A state=2 old=1 dir=IN caller=79161234567 called=405 features=1816  # talk
405 6 id=A state=0 old=2 dir=IN caller=79161234567 called=405 features=0
405 11 features=2
`;

const DIR: Record<string, CallDirection> = {
  IN: CallDirection.IN,
  OUT: CallDirection.OUT,
  UNKNOWN: CallDirection.UNKNOWN,
};

/** What a correct tracker would emit for `file`, with `realOf` giving each symbol's real id. */
function actualFrom(file: GoldenFile, realOf: (symbol: string) => string): GoldenActualEvent[] {
  return file.events.map((e) =>
    e.eventType === 11
      ? {
          line: e.line,
          eventType: 11,
          callFeaturesSet: e.callFeaturesSet,
          ...(e.callId ? { callId: realOf(e.callId) } : {}),
        }
      : {
          line: e.line,
          eventType: e.eventType,
          call: {
            id: realOf(e.id!),
            deviceId: e.line,
            state: e.state as CallState,
            oldState: e.oldState as CallState,
            direction: DIR[e.direction!]!,
            callerId: e.callerId!,
            calledId: e.calledId!,
            callFeaturesSet: e.callFeaturesSet,
          },
        },
  );
}

const realIds = (symbol: string): string => `uid-${symbol}-1795582075`;

function parseError(text: string): GoldenFormatError {
  try {
    parseGoldenFile(text, 'x.expected');
  } catch (err) {
    assert.ok(err instanceof GoldenFormatError, `not a GoldenFormatError: ${String(err)}`);
    return err;
  }
  assert.fail('parsed without an error');
}

describe('parseGoldenFile', () => {
  it('reads config, lines and events, ignoring comments and blank lines', () => {
    const file = parseGoldenFile(SAMPLE, 'sample.expected');
    assert.deepEqual(file.config, { protocol: 'PJSIP/' });
    assert.deepEqual(file.lines, ['405', '406']);
    assert.equal(file.events.length, 4);
    assert.deepEqual(file.events[1], {
      line: '405',
      eventType: 7,
      id: 'A',
      state: 2,
      oldState: 1,
      direction: 'IN',
      callerId: '79161234567',
      calledId: '405',
      callFeaturesSet: 1816,
      source: 'sample.expected:6',
    });
    assert.deepEqual(file.events[3], {
      line: '405',
      eventType: 11,
      callFeaturesSet: 2,
      source: 'sample.expected:8',
    });
  });

  it('formats an event back to the line it came from', () => {
    const file = parseGoldenFile(SAMPLE + '405 11 callId=A features=8360\n', 's');
    assert.equal(
      formatGoldenEvent(file.events[0]!),
      '405 5 id=A state=1 old=0 dir=IN caller=79161234567 called=405 features=8',
    );
    assert.equal(formatGoldenEvent(file.events[4]!), '405 11 features=8360 callId=A');
  });

  const cases: Array<[string, string, number, RegExp]> = [
    ['an unknown directive', '@lines 305\n', 1, /unknown directive "@lines"/],
    ['an unknown config key', '@line 305\n@config protokol=SIP/\n', 2, /unknown key "protokol"/],
    ['a line listed twice', '@line 305\n@line 306 305\n', 2, /305 already listed at x\.expected:1/],
    ['an event type not compared', '@line 305\n305 12 features=0\n', 2, /event type 12/],
    [
      'a missing field',
      '@line 305\n305 6 id=A state=0 old=2 dir=IN caller=1 features=0\n',
      2,
      /missing field "called"/,
    ],
    ['an unknown field', '@line 305\n305 11 features=2 state=0\n', 2, /unknown field "state"/],
    [
      'a bad direction',
      '@line 305\n305 5 id=A state=1 old=0 dir=IN2 caller=1 called=305 features=8\n',
      2,
      /dir must be/,
    ],
    [
      'a state the event type cannot have',
      '@line 305\n\n305 5 id=A state=2 old=0 dir=IN caller=1 called=305 features=8\n',
      3,
      /needs state=1/,
    ],
    [
      '7 from HOLDED',
      '@line 305\n305 7 id=A state=2 old=3 dir=IN caller=1 called=305 features=1816\n',
      2,
      /END_HOLD_ACTION/,
    ],
    [
      'a non-numeric feature set',
      '@line 305\n305 11 features=DIAL\n',
      2,
      /features must be a non-negative integer/,
    ],
    [
      'an id that is not a symbol',
      '@line 305\n305 5 id=1 state=1 old=0 dir=IN caller=1 called=305 features=8\n',
      2,
      /not a symbol/,
    ],
    [
      'an event on a line not listed',
      '@line 305\n# c\n306 11 features=2\n',
      3,
      /line 306 is not listed/,
    ],
    ['a file without @line', '# nothing\n', 1, /no @line/],
  ];
  for (const [what, text, lineNo, message] of cases) {
    it(`refuses ${what}, naming the file and line`, () => {
      const err = parseError(text);
      assert.equal(err.lineNo, lineNo);
      assert.match(err.message, new RegExp(`^x\\.expected:${lineNo}: `));
      assert.match(err.message, message);
    });
  }
});

describe('compareGolden', () => {
  const expected = parseGoldenFile(SAMPLE, 'sample.expected');

  it('finds no difference in a matching replay (other event types ignored)', () => {
    const actual = actualFrom(expected, realIds);
    actual.splice(1, 0, { line: '405', eventType: 12 }); // agent state: not compared
    assert.deepEqual(compareGolden(expected, actual), []);
  });

  it('catches a wrong state', () => {
    const actual = actualFrom(expected, realIds);
    actual[1]!.call!.oldState = CallState.HOLDED;
    const diffs = compareGolden(expected, actual);
    assert.deepEqual(diffs, [
      'line 405, expected event #2 (sample.expected:6) COMMUTATION_STARTED: old: expected 1, got 3',
    ]);
  });

  it('catches an id that changes in the middle of the call', () => {
    const actual = actualFrom(expected, realIds);
    actual[2]!.call!.id = 'other-id';
    const diffs = compareGolden(expected, actual);
    assert.equal(diffs.length, 1, diffs.join('\n'));
    assert.match(
      diffs[0]!,
      /event #3 \(sample\.expected:7\) RING_FINISHED: id changed: A is "uid-A-/,
    );
    assert.match(diffs[0]!, /got "other-id"/);
  });

  it('catches two calls that should be distinct sharing one id', () => {
    const two = parseGoldenFile(
      '@line 305 306\n' +
        '305 5 id=A state=1 old=0 dir=IN caller=1 called=305 features=8\n' +
        '306 5 id=B state=1 old=0 dir=IN caller=1 called=306 features=8\n',
      'two.expected',
    );
    const diffs = compareGolden(
      two,
      actualFrom(two, () => 'same'),
    );
    assert.equal(diffs.length, 1, diffs.join('\n'));
    assert.match(diffs[0]!, /expected a call distinct from A, got the same id "same"/);
  });

  it('catches an extra event', () => {
    const actual = actualFrom(expected, realIds);
    actual.splice(2, 0, { ...actual[1]! }); // a second COMMUTATION_STARTED
    const diffs = compareGolden(expected, actual);
    assert.equal(diffs.length, 1, diffs.join('\n'));
    assert.match(
      diffs[0]!,
      /^line 405: extra event \(actual #3\): 405 7 id=A\(uid-A-\d+\) state=2/,
    );
  });

  it('catches a missing event', () => {
    const actual = actualFrom(expected, realIds).filter((a) => a.eventType !== 11);
    assert.deepEqual(compareGolden(expected, actual), [
      'line 405: missing event #4 (sample.expected:8): 405 11 features=2',
    ]);
  });

  it('catches an event on the wrong line', () => {
    const actual = actualFrom(expected, realIds);
    actual[3] = { ...actual[3]!, line: '406' };
    const diffs = compareGolden(expected, actual);
    assert.deepEqual(diffs, [
      'line 405: missing event #4 (sample.expected:8): 405 11 features=2',
      'line 406: extra event (actual #1): 406 11 features=2',
    ]);
  });

  it('catches events on a line the file does not list, and a call whose deviceId is not its line', () => {
    const actual = actualFrom(expected, realIds);
    actual[0]!.call!.deviceId = '406';
    actual.push({ line: '999', eventType: 11, callFeaturesSet: 2 });
    const diffs = compareGolden(expected, actual);
    assert.deepEqual(diffs, [
      'line 405, expected event #1 (sample.expected:5) RING_STARTED: deviceId: expected 405, got 406',
      'line 999 is not listed in sample.expected but got: 999 11 features=2',
    ]);
  });

  it('checks the callId of a line-state change against the symbols', () => {
    const file = parseGoldenFile(
      '@line 305\n' +
        '305 5 id=A state=1 old=0 dir=IN caller=1 called=305 features=8\n' +
        '305 11 callId=A features=8360\n',
      'c.expected',
    );
    const actual = actualFrom(file, realIds);
    assert.deepEqual(compareGolden(file, actual), []);
    actual[1]!.callId = 'someone-else';
    assert.match(compareGolden(file, actual).join('\n'), /callId: id changed: A is "uid-A-/);
    delete actual[1]!.callId;
    assert.deepEqual(compareGolden(file, actual), [
      'line 305, expected event #2 (c.expected:3) LINE_STATE_CHANGED: callId: expected A, got none',
    ]);
  });

  it('catches wrong caller, direction and features in one event', () => {
    const actual = actualFrom(expected, realIds);
    actual[0]!.call!.callerId = '405';
    actual[0]!.call!.direction = CallDirection.OUT;
    actual[0]!.call!.callFeaturesSet = 12;
    const diffs = compareGolden(expected, actual);
    assert.deepEqual(diffs, [
      'line 405, expected event #1 (sample.expected:5) RING_STARTED: dir: expected IN, got OUT',
      'line 405, expected event #1 (sample.expected:5) RING_STARTED: caller: expected 79161234567, got 405',
      'line 405, expected event #1 (sample.expected:5) RING_STARTED: features: expected 8, got 12',
    ]);
  });
});

describe('the golden files', () => {
  const dir = goldenDir();
  const files = new Map<string, GoldenFile>(
    readdirSync(dir)
      .filter((f) => f.endsWith('.expected'))
      .map((f) => f.slice(0, -'.expected'.length))
      .map((name): [string, GoldenFile] => [name, loadGoldenFile(name)]),
  );

  it('include the README example, which parses', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const example = /## Format[\s\S]*?```\n([\s\S]*?)```/.exec(readme);
    assert.ok(example, 'README.md has no example under "## Format"');
    const file = parseGoldenFile(example[1]!, 'README.md example');
    assert.deepEqual(file.lines, ['305', '306']);
    assert.equal(file.events.length, 3);
  });

  it('exist for every recorded fixture, and only for those', () => {
    assert.deepEqual([...files.keys()].sort(), fixtureNames());
  });

  it('print back to their own event lines', () => {
    for (const [name, file] of files) {
      const text = readFileSync(join(dir, `${name}.expected`), 'utf8').split('\n');
      for (const e of file.events) {
        const lineNo = Number(e.source.split(':')[1]);
        const written = text[lineNo - 1]!.replace(/#.*/, '').trim().split(/\s+/).join(' ');
        const canonical = formatGoldenEvent(e);
        // Same fields; event 11 may write callId before features.
        assert.deepEqual(written.split(' ').sort(), canonical.split(' ').sort(), e.source);
      }
    }
  });

  it('agree with the protocol: features per state, one id per call, DIAL when a line goes idle', () => {
    for (const [, file] of files) {
      const canAnswer = file.config['canAnswer'] === 'true';
      const callLine = new Map<string, string>();
      const ended = new Set<string>();
      for (const line of file.lines) {
        const events = file.events.filter((e) => e.line === line);
        const active = new Map<string, GoldenEvent>();
        let idleDue = false;
        for (const e of events) {
          const where = `${e.source}: ${formatGoldenEvent(e)}`;
          if (e.eventType === 11) {
            if (e.callId) {
              assert.ok(active.has(e.callId), `${where}: callId of no active call`);
              const primary = active.get(e.callId)!;
              assert.equal(primary.state, CallState.HOLDED, `${where}: consult primary not held`);
              assert.equal(e.callFeaturesSet, CONSULT_PRIMARY_FEATURES, where);
              assert.ok(active.size >= 2, `${where}: consult features without a consult call`);
            } else {
              assert.ok(idleDue, `${where}: DIAL while the line has calls or twice`);
              assert.equal(e.callFeaturesSet, 2, where);
              idleDue = false;
            }
            continue;
          }
          assert.ok(!idleDue, `${where}: the line went idle without "11 features=2" first`);
          const id = e.id!;
          assert.ok(!ended.has(id), `${where}: ${id} reappears after its RING_FINISHED`);
          assert.equal(callLine.get(id) ?? line, line, `${where}: ${id} is on two lines`);
          callLine.set(id, line);
          const before = active.get(id);
          if (e.eventType === 5) assert.equal(before, undefined, `${where}: ${id} rings twice`);
          else {
            assert.ok(before, `${where}: ${id} did not start with RING_STARTED`);
            assert.equal(e.oldState, before.state, `${where}: old is not the state before`);
            assert.equal(e.direction, before.direction, `${where}: direction changed`);
            assert.equal(e.calledId, before.calledId, `${where}: calledId changed`);
          }
          if (e.eventType !== 5 && e.eventType !== 17) {
            assert.equal(e.callerId, before!.callerId, `${where}: callerId changed without 17`);
          }
          if (e.eventType === 5) assert.equal(e.oldState, CallState.NONE, where);
          const want = callFeaturesFor(e.state as CallState, {
            canAnswer,
            incoming: e.direction === 'IN',
          });
          assert.equal(e.callFeaturesSet, want, `${where}: features for state ${e.state}`);
          if (e.eventType === 6) {
            active.delete(id);
            ended.add(id);
            idleDue = active.size === 0;
          } else active.set(id, e);
        }
        assert.ok(!idleDue, `${file.source}: line ${line} ends idle without "11 features=2"`);
        assert.equal(active.size, 0, `${file.source}: line ${line} ends with calls still up`);
      }
    }
  });

  it('compare clean against a replay that emits exactly them', () => {
    for (const [, file] of files) {
      assert.deepEqual(compareGolden(file, actualFrom(file, realIds)), [], file.source);
    }
  });
});
