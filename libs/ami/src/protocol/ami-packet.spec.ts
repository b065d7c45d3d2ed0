import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AmiPacket } from './ami-packet';

describe('AmiPacket', () => {
  const p = AmiPacket.from([
    ['Event', 'Newchannel'],
    ['Privilege', 'call,all'],
    ['ActionID', 'a-1'],
    ['ChanVariable', 'CDR(dst)=305'],
    ['ChanVariable(QUEUE)', 'support'],
    ['chanvariable', 'X=a=b'],
    ['Variable', 'v1'],
    ['Variable', 'v2'],
  ]);

  it('looks keys up without regard to case, first value wins', () => {
    assert.equal(p.get('Event'), 'Newchannel');
    assert.equal(p.get('EVENT'), 'Newchannel');
    assert.equal(p.get('privilege'), 'call,all');
    assert.equal(p.get('nope'), undefined);
    assert.equal(p.has('actionid'), true);
    assert.equal(p.event, 'Newchannel');
    assert.equal(p.response, undefined);
    assert.equal(p.actionId, 'a-1');
    assert.equal(p.size, 8);
  });

  it('keeps repeated keys in order', () => {
    assert.deepEqual(p.getAll('chanVariable'), ['CDR(dst)=305', 'X=a=b']);
    assert.deepEqual(p.chanVariableList, ['CDR(dst)=305', 'X=a=b']);
    assert.deepEqual(
      [...p.chanVariables],
      [
        ['CDR(dst)', '305'],
        ['QUEUE', 'support'],
        ['X', 'a=b'],
      ],
    );
    assert.deepEqual(p.variables, ['v1', 'v2']);
  });

  it('gives keys, values and entries in wire order', () => {
    assert.deepEqual(p.keys.slice(0, 3), ['Event', 'Privilege', 'ActionID']);
    assert.deepEqual(p.values.slice(0, 3), ['Newchannel', 'call,all', 'a-1']);
    assert.deepEqual(p.entries()[3], ['ChanVariable', 'CDR(dst)=305']);
  });

  it('toObject() keeps headers named like Object.prototype members as plain headers', () => {
    const p = AmiPacket.from([
      ['__proto__', 'a'],
      ['constructor', 'b'],
      ['constructor', 'c'],
    ]);
    const o = p.toObject();
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o), ['__proto__', 'constructor']);
    assert.equal(Object.getOwnPropertyDescriptor(o, '__proto__')?.value, 'a');
    assert.deepEqual(o['constructor'], ['b', 'c']);
    assert.equal(JSON.stringify(o), '{"__proto__":"a","constructor":["b","c"]}');
  });

  it('turns repeated keys into arrays in toObject()', () => {
    assert.deepEqual(p.toObject(), {
      Event: 'Newchannel',
      Privilege: 'call,all',
      ActionID: 'a-1',
      ChanVariable: 'CDR(dst)=305',
      'ChanVariable(QUEUE)': 'support',
      chanvariable: 'X=a=b',
      Variable: ['v1', 'v2'],
    });
  });

  it('writes itself as AMI text', () => {
    const q = AmiPacket.from([
      ['Response', 'Success'],
      ['Message', 'ok'],
    ]);
    assert.equal(q.toString(), 'Response: Success\r\nMessage: ok\r\n\r\n');
  });

  it('gives command output: Output headers, or the lines of the old form with its marker', () => {
    const modern = AmiPacket.from([
      ['Response', 'Success'],
      ['Output', 'a'],
      ['Output', ''],
    ]);
    assert.deepEqual(modern.output, ['a', '']);
    const old = new AmiPacket(
      ['Response', 'ActionID'],
      ['Follows', 'c-1'],
      ['line 1', '', 'line 3'],
    );
    assert.deepEqual(old.output, ['line 1', '', 'line 3']);
    assert.deepEqual(old.toObject()['Output'], ['line 1', '', 'line 3']);
    assert.equal(
      old.toString(),
      'Response: Follows\r\nActionID: c-1\r\nline 1\r\n\r\nline 3\r\n--END COMMAND--\r\n\r\n',
    );
    // output is a copy: changing it changes nothing in the packet.
    old.output.push('x');
    assert.equal(old.output.length, 3);
  });
});
