/**
 * The soak's CTI panels: one per operator line, over plain WebSocket or SignalR (the 3.1 client
 * Creatio ships and the current one), each following the calls of its line from the frames it
 * gets (nothing else kept: a panel's memory stays flat over hours) and sending the commands the
 * generator asks for (MakeCall, HoldCall, DropCall, transfers). Panels can drop and reconnect.
 */
import { WebSocket } from 'ws';
import {
  signalRConnection,
  type SignalRMajor,
} from '../../apps/messaging-host/src/gateway/testing/signalr-clients';
import type { HubConnectionLike } from '../../apps/messaging-host/src/gateway/testing/cti-test-client';

const ASSEMBLY =
  'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2';
const CALL_EXECUTOR = 'Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common';
/** Call states (libs/messaging CallState). */
export const CONNECTED = 2;
export const HOLDED = 3;

export type PanelTransport = 'ws' | SignalRMajor;

export interface PanelStats {
  frames: number;
  errors: number;
  /** Error texts by their first 60 characters (how often each). */
  errorKinds: Map<string, number>;
  commands: number;
  opens: number;
  reconnects: number;
}

export function newPanelStats(): PanelStats {
  return { frames: 0, errors: 0, errorKinds: new Map(), commands: 0, opens: 0, reconnects: 0 };
}

interface Envelope {
  eventType: number;
  content: string;
  commandUId: string;
  connectionUId: string;
}

interface LiveCall {
  id: string;
  state: number;
  seq: number;
}

export class Panel {
  /** Live calls of the line by id (from the frames), newest last. */
  readonly calls = new Map<string, LiveCall>();
  private ws: WebSocket | undefined;
  private hub: HubConnectionLike | undefined;
  private libraryInstanceUId = '';
  private connectionUId = '';
  private seq = 0;
  private callSeq = 0;
  private replies = new Map<string, (e: Envelope) => void>();
  ready = false;

  constructor(
    readonly line: string,
    readonly transport: PanelTransport,
    private readonly port: number,
    private readonly stats: PanelStats,
  ) {}

  /** Connects, loads the library and opens the line; resolves once event 2 came. */
  async open(): Promise<void> {
    this.calls.clear();
    this.ready = false;
    if (this.transport === 'ws') {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/`, { perMessageDeflate: false });
      this.ws = ws;
      ws.on('message', (d) => this.onText((d as Buffer).toString('utf8')));
      ws.on('error', () => undefined);
      ws.on('close', () => (this.ready = false));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    } else {
      const hub = signalRConnection(this.transport, `http://127.0.0.1:${this.port}/msg`);
      this.hub = hub;
      hub.on('ServerMessage', (arg: unknown) => {
        if (typeof arg === 'string') this.onText(arg);
      });
      hub.onclose(() => (this.ready = false));
      await hub.start();
    }
    const e1 = await this.request('LoadLibrary', { AssemblyName: ASSEMBLY });
    if (e1.eventType !== 1) throw new Error(`line ${this.line}: LoadLibrary got ${e1.content}`);
    this.libraryInstanceUId = e1.content;
    const e2 = await this.request('OpenConnection', {
      connectionParams: JSON.stringify({ ExtensionName: this.line, debugMode: 'false' }),
      sessionServiceParams: JSON.stringify({
        UserUId: `user-${this.line}`,
        UserContactUId: `contact-${this.line}`,
        ServiceUrl: 'http://crm.soak.test',
      }),
    });
    if (e2.eventType !== 2) throw new Error(`line ${this.line}: OpenConnection got ${e2.content}`);
    this.connectionUId = e2.connectionUId;
    this.ready = true;
    this.stats.opens += 1;
  }

  /** Closes the connection: cleanly (close handshake / hub stop) or by dropping the socket. */
  async close(abrupt = false): Promise<void> {
    this.ready = false;
    for (const r of this.replies.values())
      r({ eventType: 3, content: 'closed', commandUId: '', connectionUId: '' });
    this.replies.clear();
    const ws = this.ws;
    const hub = this.hub;
    this.ws = undefined;
    this.hub = undefined;
    if (ws) {
      if (abrupt) ws.terminate();
      else if (ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close();
        });
      }
    }
    if (hub) await hub.stop().catch(() => undefined);
  }

  async reconnect(abrupt: boolean): Promise<void> {
    await this.close(abrupt);
    this.stats.reconnects += 1;
    await this.open();
  }

  /** The newest live call in `state` (any live call when state is undefined). */
  call(state?: number): LiveCall | undefined {
    let best: LiveCall | undefined;
    for (const c of this.calls.values()) {
      if (state !== undefined && c.state !== state) continue;
      if (!best || c.seq > best.seq) best = c;
    }
    return best;
  }

  forgetCalls(): void {
    this.calls.clear();
  }

  makeCall(target: string): boolean {
    return this.send('MakeCall', { targetAddress: target });
  }

  callCommand(command: string, call: LiveCall, parameters: Record<string, unknown> = {}): boolean {
    return this.send(command, parameters, {
      commandExecutorId: call.id,
      commandExecutorType: CALL_EXECUTOR,
      commandExecutor: JSON.stringify({ id: call.id, state: call.state }),
    });
  }

  private send(
    command: string,
    parameters: Record<string, unknown>,
    extra: Record<string, string> = {},
  ): boolean {
    if (!this.ready) return false;
    this.stats.commands += 1;
    this.write(this.body(command, parameters, extra));
    return true;
  }

  private body(
    command: string,
    parameters: Record<string, unknown>,
    extra: Record<string, string> = {},
  ): { uid: string; text: string } {
    const uid = `cmd-${++this.seq}`;
    return {
      uid,
      text: JSON.stringify({
        commandUId: uid,
        command,
        libraryInstanceUId: this.libraryInstanceUId,
        connectionUId: this.connectionUId,
        commandExecutorId: '',
        commandExecutorType: '',
        ...extra,
        parameters,
      }),
    };
  }

  private write(b: { text: string }): void {
    if (this.ws) this.ws.send(b.text, () => undefined);
    else this.hub?.invoke('SendRawMessage', b.text).catch(() => undefined);
  }

  private request(command: string, parameters: Record<string, unknown>): Promise<Envelope> {
    const b = this.body(command, parameters);
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(b.uid);
        reject(new Error(`line ${this.line}: no answer to ${command} within 30 s`));
      }, 30_000);
      this.replies.set(b.uid, (e) => {
        clearTimeout(timer);
        resolve(e);
      });
      this.write(b);
    });
  }

  private onText(text: string): void {
    this.stats.frames += 1;
    let e: Envelope;
    try {
      e = JSON.parse(text) as Envelope;
    } catch {
      this.countError(`not JSON: ${text}`);
      return;
    }
    const waiting = e.commandUId ? this.replies.get(e.commandUId) : undefined;
    if (waiting) {
      this.replies.delete(e.commandUId);
      waiting(e);
      return;
    }
    if (e.eventType === 3) {
      this.countError(e.content);
      return;
    }
    if (e.eventType === 10) {
      this.calls.clear();
      return;
    }
    if (e.eventType < 5 || e.eventType > 17 || e.eventType === 11 || e.eventType === 12) return;
    let c: { id?: string; state?: number };
    try {
      c = JSON.parse(e.content) as { id?: string; state?: number };
    } catch {
      return;
    }
    if (typeof c.id !== 'string' || typeof c.state !== 'number') return;
    if (c.state === 0) this.calls.delete(c.id);
    else {
      const had = this.calls.get(c.id);
      this.calls.set(c.id, { id: c.id, state: c.state, seq: had?.seq ?? ++this.callSeq });
    }
  }

  private countError(text: string): void {
    this.stats.errors += 1;
    let msg = text;
    try {
      const o = JSON.parse(text) as { message?: string; Message?: string };
      msg = o.message ?? o.Message ?? text;
    } catch {
      // plain text
    }
    const key = msg.replace(/\d{4,}[.\d]*/g, 'N').slice(0, 70);
    this.stats.errorKinds.set(key, (this.stats.errorKinds.get(key) ?? 0) + 1);
  }
}

/** Opens `lines` panels, `concurrency` at a time; every third over SignalR (3.1 and current alternating). */
export async function openPanels(
  lines: readonly string[],
  port: number,
  stats: PanelStats,
  concurrency = 50,
): Promise<Map<string, Panel>> {
  const out = new Map<string, Panel>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lines.length) {
      const i = next++;
      const t: PanelTransport = i % 3 !== 2 ? 'ws' : i % 6 === 2 ? '3.1' : 'current';
      const p = new Panel(lines[i]!, t, port, stats);
      await p.open();
      out.set(p.line, p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, lines.length) }, worker));
  return out;
}
