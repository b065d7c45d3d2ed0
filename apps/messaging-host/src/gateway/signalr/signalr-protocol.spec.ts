import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HubMessageType,
  RECORD_SEPARATOR as RS,
  SignalRProtocolError,
  checkHandshake,
  closeRecord,
  completionResult,
  invocationRecord,
  looksLikeHandshake,
  parseHubMessage,
  splitRecords,
} from './signalr-protocol';

describe('SignalR JSON hub protocol', () => {
  it('splits records and refuses an unterminated one', () => {
    assert.deepEqual(splitRecords(`{"a":1}${RS}{"type":6}${RS}`), ['{"a":1}', '{"type":6}']);
    assert.deepEqual(splitRecords(''), []);
    assert.throws(() => splitRecords(`{"type":6}${RS}{"type":6}`), SignalRProtocolError);
  });
  it('checks the handshake', () => {
    assert.equal(checkHandshake('{"protocol":"json","version":1}'), null);
    assert.match(checkHandshake('{"protocol":"messagepack","version":1}') ?? '', /not supported/);
    assert.match(checkHandshake('{"protocol":"json","version":2}') ?? '', /version 2/);
    assert.match(checkHandshake('{"protocol":"json"}') ?? '', /version/);
    assert.match(checkHandshake('nope') ?? '', /not valid JSON/);
    assert.ok(looksLikeHandshake(`{"protocol":"json","version":1}${RS}`));
    assert.ok(!looksLikeHandshake('{"command":"LoadLibrary"}'));
  });
  it('parses invocations and names what is wrong', () => {
    assert.deepEqual(
      parseHubMessage('{"type":1,"invocationId":"0","target":"SendRawMessage","arguments":["{}"]}'),
      {
        type: HubMessageType.Invocation,
        invocationId: '0',
        target: 'SendRawMessage',
        arguments: ['{}'],
      },
    );
    assert.deepEqual(parseHubMessage('{"type":6}'), { type: HubMessageType.Ping });
    assert.deepEqual(parseHubMessage('{"type":99}'), { type: 'other', messageType: 99 });
    assert.throws(() => parseHubMessage('{"type":1,"arguments":[]}'), /target/);
    assert.throws(() => parseHubMessage('{"type":1,"target":"x"}'), /arguments/);
    assert.throws(() => parseHubMessage('{"type":"1"}'), /integer "type"/);
    assert.throws(() => parseHubMessage('[]'), /JSON object/);
  });
  it('writes a ServerMessage whose single argument is the envelope as a string', () => {
    const env = '{"eventType":5,"content":"{\\"id\\":\\"1\\"}"}';
    const rec = invocationRecord('ServerMessage', env);
    assert.ok(rec.endsWith(RS));
    const msg = JSON.parse(rec.slice(0, -1)) as {
      type: number;
      target: string;
      arguments: unknown[];
    };
    assert.deepEqual(msg, { type: 1, target: 'ServerMessage', arguments: [env] });
    assert.equal(completionResult('3', null), `{"type":3,"invocationId":"3","result":null}${RS}`);
    assert.equal(closeRecord('bye', true), `{"type":7,"error":"bye","allowReconnect":true}${RS}`);
  });
});
