#!/usr/bin/env node
// A minimal CTI panel on the plain WebSocket transport: opens a line and prints its events.
//   node scenarios/watch.mjs [ws://127.0.0.1:2013] [305]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocket } = require('ws');
const url = process.argv[2] ?? 'ws://127.0.0.1:2013';
const line = process.argv[3] ?? '305';
const NAMES = {
  1: 'LIBRARY_INITIALIZED',
  2: 'CONNECTION_CREATED',
  3: 'ERROR',
  4: 'COMMAND_INFO',
  5: 'RING_STARTED',
  6: 'RING_FINISHED',
  7: 'COMMUTATION_STARTED',
  8: 'PUT_HOLD_ACTION',
  9: 'END_HOLD_ACTION',
  10: 'ACTIVE_CALL_SNAPSHOT',
  11: 'LINE_STATE_CHANGED',
  12: 'AGENT_STATE_CHANGED',
  13: 'ABONENT_BUSY',
  14: 'DISCONNECTED',
  15: 'CALL_SAVED_IN_DB',
  16: 'RAW_DATA',
  17: 'CALL_INFO_CHANGED',
  18: 'DTMF_ENTERED',
};
const ws = new WebSocket(url);
const send = (command, parameters) =>
  ws.send(JSON.stringify({ commandUId: command, command, parameters }));
ws.on('open', () => {
  console.log(`connected to ${url}; opening line ${line}`);
  send('LoadLibrary', {
    AssemblyName:
      'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2',
  });
});
ws.on('message', (data) => {
  const e = JSON.parse(data.toString('utf8'));
  if (e.eventType === 1) {
    send('OpenConnection', {
      connectionParams: JSON.stringify({ ExtensionName: line }),
      sessionServiceParams: JSON.stringify({
        UserUId: 'demo-user',
        ServiceUrl: 'http://localhost',
      }),
    });
  } else if (e.eventType === 2) {
    send('QueryActiveCallSnapshot');
  }
  let content = e.content;
  try {
    const c = JSON.parse(content);
    content =
      c && typeof c === 'object' && 'state' in c
        ? `call ${c.id} ${c.callerId} -> ${c.calledId} state ${c.state} features ${c.callFeaturesSet}`
        : JSON.stringify(c);
  } catch {
    // events 1 and 4 are raw text
  }
  console.log(
    `${new Date().toISOString().slice(11, 23)}  ${e.eventType} ${NAMES[e.eventType] ?? ''}  ${content}`,
  );
});
ws.on('close', (code) => {
  console.log(`connection closed (${code})`);
  process.exit(code === 1000 ? 0 : 1);
});
ws.on('error', (err) => {
  console.error(`cannot connect to ${url}: ${err.message}`);
  process.exit(1);
});
