/**
 * The baseline of the fan-out benchmark: a bare `ws` server that reads the same AMI stream
 * (login, decoder) and broadcasts the same frames (the gateway's envelope and Call JSON) to
 * the sockets of each line, with none of the protocol, sessions or libraries in between.
 *
 *   node dist/bench/fanout/bare-ws-server.js <amiPort> <username> <secret>
 * Prints `listening <port>`; clients connect to ws://127.0.0.1:<port>/?line=<line>.
 */
import { createConnection } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AmiDecoder, encodeAction } from '@app/ami';
import { CallDirection, CallState, MsgEventType, callFeaturesFor, type Call } from '@app/messaging';
import { events } from '../../apps/messaging-host/src/gateway/protocol/client-protocol';

const [amiPort, username, secret] = process.argv.slice(2);
const clients = new Map<string, Set<WebSocket>>();
const calls = new Map<string, Call>();

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
});
wss.on('connection', (ws, req) => {
  const line = new URL(req.url ?? '/', 'http://x').searchParams.get('line') ?? '';
  let set = clients.get(line);
  if (!set) clients.set(line, (set = new Set()));
  set.add(ws);
  ws.on('close', () => set.delete(ws));
  ws.send('{"ready":true}');
});

function broadcast(line: string, text: (uid: string) => string): void {
  for (const ws of clients.get(line) ?? []) ws.send(text(''));
}

const decoder = new AmiDecoder({
  onPacket: (p) => {
    const ev = p.event;
    const channel = p.get('Channel') ?? '';
    const m = /^SIP\/(\w+)-/.exec(channel);
    if (!ev || !m || m[1]!.startsWith('trunk')) return;
    const line = m[1]!;
    if (ev === 'Newstate' && p.get('ChannelState') === '5') {
      const call: Call = {
        id: p.get('Linkedid') ?? '',
        deviceId: line,
        callerId: p.get('ConnectedLineNum') ?? '',
        calledId: line,
        direction: CallDirection.IN,
        state: CallState.ALERTING,
        oldState: CallState.NONE,
        callFeaturesSet: callFeaturesFor(CallState.ALERTING),
        startTime: new Date().toISOString(),
        timeStamp: new Date().toISOString(),
      };
      calls.set(channel, call);
      const e = events.call(MsgEventType.RING_STARTED, call);
      broadcast(line, (uid) => e.envelope(uid));
    } else if (ev === 'Hangup') {
      const call = calls.get(channel);
      if (!call) return;
      calls.delete(channel);
      const ended: Call = {
        ...call,
        oldState: call.state,
        state: CallState.NONE,
        callFeaturesSet: 0,
        endTime: new Date().toISOString(),
      };
      const e = events.call(MsgEventType.RING_FINISHED, ended);
      const ls = events.lineState(2, undefined);
      broadcast(line, (uid) => e.envelope(uid));
      broadcast(line, (uid) => ls.envelope(uid));
    }
  },
  onError: (err) => {
    process.stderr.write(`bare server: AMI decode error ${err.message}\n`);
  },
});

const sock = createConnection({ host: '127.0.0.1', port: Number(amiPort) }, () => {
  sock.write(
    encodeAction({ Action: 'Login', ActionID: 'login-1', Username: username!, Secret: secret! }),
  );
});
sock.on('data', (d) => decoder.push(d));
sock.on('error', (err) => {
  process.stderr.write(`bare server: AMI ${err.message}\n`);
  process.exit(1);
});
wss.on('listening', () => {
  const a = wss.address();
  process.stdout.write(`listening ${a && typeof a === 'object' ? a.port : String(a)}\n`);
});
