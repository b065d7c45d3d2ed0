import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallDirection, CallState, MsgEventType, type Call } from '@app/messaging';
import { GatewayError } from '../gateway.errors';
import {
  events,
  executorCallId,
  parseClientCommand,
  ServerEvent,
  wireCall,
} from './client-protocol';
import { ENVELOPE_KEYS } from '../testing/cti-test-client';

describe('client protocol', () => {
  it('parses a command envelope; parameters may be an object or a JSON string', () => {
    const c = parseClientCommand(
      JSON.stringify({
        command: 'MakeCall',
        commandUId: 'u1',
        parameters: { targetAddress: '305' },
      }),
    );
    assert.equal(c.command, 'MakeCall');
    assert.equal(c.commandUId, 'u1');
    assert.deepEqual(c.parameters, { targetAddress: '305' });
    const s = parseClientCommand('{"command":"X","parameters":"{\\"a\\":1}"}');
    assert.deepEqual(s.parameters, { a: 1 });
  });
  it('names what is wrong', () => {
    const bad = (t: string): string => {
      try {
        parseClientCommand(t);
      } catch (e) {
        assert.ok(e instanceof GatewayError);
        return `${e.code}: ${e.message}`;
      }
      return 'accepted';
    };
    assert.match(bad('{'), /BAD_JSON/);
    assert.match(bad('"x"'), /JSON object, not string/);
    assert.match(bad('{}'), /MISSING_FIELD.*"command"/);
    assert.match(bad('{"command":"X","commandUId":5}'), /"commandUId" must be a string/);
    assert.match(bad('{"command":"X","parameters":[1]}'), /"parameters" must be an object/);
  });
  it('takes the call id from commandExecutorId, else from the executor JSON', () => {
    const a = parseClientCommand(
      '{"command":"DropCall","commandExecutorId":"c1","commandExecutor":"{\\"id\\":\\"c2\\"}"}',
    );
    assert.equal(executorCallId(a), 'c1');
    const b = parseClientCommand(
      '{"command":"DropCall","commandExecutor":"{\\"id\\":\\"c2\\",\\"state\\":3}"}',
    );
    assert.equal(executorCallId(b), 'c2');
    assert.throws(
      () => executorCallId(parseClientCommand('{"command":"DropCall"}')),
      /commandExecutorId/,
    );
  });
  it('serialises envelopes with exactly the protocol keys, content as JSON text', () => {
    const ev = new ServerEvent(MsgEventType.RING_STARTED, '{"id":"1"}');
    const env = JSON.parse(ev.envelope('conn-1')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(env), ENVELOPE_KEYS);
    assert.equal(env['connectionUId'], 'conn-1');
    assert.equal(env['privateData'], null);
    assert.equal(events.agentState('Active').content, '"Active"');
    assert.equal(events.libraryInitialized('lib-uid', 'c').content, 'lib-uid');
    const d = JSON.parse(events.disconnected('bye', true).envelope('')) as { privateData: unknown };
    assert.deepEqual(d.privateData, { ignoreTryReconnection: true });
    assert.deepEqual(JSON.parse(events.lineState(2, undefined).content), { callFeaturesSet: 2 });
  });
  it("drops keys of a Call that are not the protocol's", () => {
    const call = {
      id: '1',
      deviceId: '305',
      callerId: 'a',
      calledId: 'b',
      direction: CallDirection.IN,
      state: CallState.ALERTING,
      oldState: CallState.NONE,
      callFeaturesSet: 8,
      channel: 'SIP/305-1',
      linkedId: 'x',
      databaseUId: undefined,
    } as unknown as Call;
    assert.deepEqual(Object.keys(wireCall(call)), [
      'id',
      'deviceId',
      'callerId',
      'calledId',
      'direction',
      'state',
      'oldState',
      'callFeaturesSet',
    ]);
  });
});
