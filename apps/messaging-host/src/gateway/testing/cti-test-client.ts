import { WebSocket, type ClientOptions } from 'ws';

/** A server event as a test sees it: the envelope, with `content` parsed where it is JSON. */
export interface ReceivedEvent {
  eventType: number;
  content: string;
  contentType: string;
  connectionUId: string;
  commandUId: string;
  privateData: unknown;
  /** `content` parsed (undefined for events 1 and 4, or when it does not parse). */
  parsed: unknown;
  /** The envelope's keys, in order. */
  keys: string[];
}

/** The keys of every server envelope, in the order the protocol sends them. */
export const ENVELOPE_KEYS: readonly string[] = [
  'eventType',
  'content',
  'contentType',
  'connectionUId',
  'commandUId',
  'privateData',
];

export const ASTERISK_ASSEMBLY =
  'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2';

/** Parses one envelope (throws on anything that is not one JSON object per message). */
export function parseEnvelope(text: string): ReceivedEvent {
  const obj = JSON.parse(text) as Record<string, unknown>;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new Error(`not an envelope: ${text.slice(0, 200)}`);
  }
  const content = obj['content'] as string;
  let parsed: unknown;
  if (obj['eventType'] !== 1 && obj['eventType'] !== 4) {
    try {
      parsed = JSON.parse(content);
    } catch {
      parsed = undefined;
    }
  }
  return { ...(obj as unknown as ReceivedEvent), parsed, keys: Object.keys(obj) };
}

type Waiter = { pred: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void };

/** Collects events in order; `next(pred)` takes the first unseen event matching. */
export class EventQueue {
  readonly all: ReceivedEvent[] = [];
  private cursor = 0;
  private waiters: Waiter[] = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: Array<() => void> = [];

  push(e: ReceivedEvent): void {
    this.all.push(e);
    this.flush();
  }

  markClosed(code: number, reason: string): void {
    this.closed = { code, reason };
    for (const w of this.closeWaiters.splice(0)) w();
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the socket did not close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(this.closed!);
      });
    });
  }

  /** The next event (after the previous ones taken) matching `pred`; skipped ones stay in `all`. */
  next(
    pred: (e: ReceivedEvent) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ReceivedEvent> {
    const found = this.take(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { pred, resolve };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no matching event within ${timeoutMs} ms; received: ${this.all
              .map((e) => `${e.eventType}:${e.content.slice(0, 80)}`)
              .join(' | ')}`,
          ),
        );
      }, timeoutMs);
      waiter.resolve = (e) => {
        clearTimeout(t);
        resolve(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** Event types received after the cursor, without taking them. */
  pendingTypes(): number[] {
    return this.all.slice(this.cursor).map((e) => e.eventType);
  }

  private take(pred: (e: ReceivedEvent) => boolean): ReceivedEvent | undefined {
    for (let i = this.cursor; i < this.all.length; i++) {
      if (pred(this.all[i]!)) {
        this.cursor = i + 1;
        return this.all[i];
      }
    }
    return undefined;
  }

  private flush(): void {
    for (const w of [...this.waiters]) {
      const e = this.take(w.pred);
      if (e) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(e);
      }
    }
  }
}

/** The commands of a CTI panel, on any transport. */
export abstract class CtiClient {
  readonly events = new EventQueue();
  private seq = 0;
  libraryInstanceUId = '';
  connectionUId = '';

  protected abstract sendText(text: string): Promise<void>;
  abstract close(): Promise<void>;

  /** Sends a command; returns its commandUId. */
  async command(
    command: string,
    parameters?: Record<string, unknown>,
    extra: Record<string, string> = {},
  ): Promise<string> {
    const commandUId = `cmd-${++this.seq}`;
    const body: Record<string, unknown> = {
      commandUId,
      command,
      libraryInstanceUId: this.libraryInstanceUId,
      connectionUId: this.connectionUId,
      commandExecutorId: '',
      commandExecutorType: '',
      ...extra,
    };
    if (parameters) body['parameters'] = parameters;
    await this.sendText(JSON.stringify(body));
    return commandUId;
  }

  /** A call command with the executor fields a panel sends. */
  callCommand(
    command: string,
    call: { id: string; state?: number },
    parameters?: Record<string, unknown>,
  ): Promise<string> {
    return this.command(command, parameters, {
      commandExecutorId: call.id,
      commandExecutorType: 'Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common',
      commandExecutor: JSON.stringify({ id: call.id, state: call.state ?? 2 }),
    });
  }

  /** The reply (by commandUId) to a command. */
  reply(commandUId: string): Promise<ReceivedEvent> {
    return this.events.next((e) => e.commandUId === commandUId);
  }

  /** LoadLibrary then OpenConnection: resolves with event 2 (or the error that came instead). */
  async open(
    line: string,
    user: string,
    opts: {
      assembly?: string;
      connectionParams?: Record<string, unknown>;
      sessionServiceParams?: Record<string, unknown>;
    } = {},
  ): Promise<ReceivedEvent> {
    const load = await this.command('LoadLibrary', {
      AssemblyName: opts.assembly ?? ASTERISK_ASSEMBLY,
    });
    const e1 = await this.reply(load);
    if (e1.eventType !== 1) return e1;
    this.libraryInstanceUId = e1.content;
    const open = await this.command('OpenConnection', {
      connectionParams: JSON.stringify({
        ExtensionName: line,
        debugMode: 'false',
        disableCallCentre: 'false',
        ...opts.connectionParams,
      }),
      sessionServiceParams: JSON.stringify({
        UserUId: user,
        UserContactUId: `contact-${user}`,
        ServiceUrl: 'http://crm.example.test',
        ...opts.sessionServiceParams,
      }),
    });
    const e2 = await this.reply(open);
    if (e2.eventType === 2) this.connectionUId = e2.connectionUId;
    return e2;
  }
}

/** The plain WebSocket transport (one JSON text frame per message). */
export class WsCtiClient extends CtiClient {
  /** Every frame as received (to check framing). */
  readonly frames: string[] = [];

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data, isBinary) => {
      const text = (data as Buffer).toString('utf8');
      this.frames.push(isBinary ? '<binary>' : text);
      this.events.push(parseEnvelope(text));
    });
    ws.on('close', (code, reason) => this.events.markClosed(code, reason.toString()));
  }

  static connect(url: string, options?: ClientOptions): Promise<WsCtiClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new WsCtiClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  protected sendText(text: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(text, (err) => (err ? reject(err) : resolve())),
    );
  }

  sendRaw(data: string | Buffer, binary = false): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Drops the connection at once (no close handshake). */
  terminate(): void {
    this.ws.terminate();
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** The parts of a SignalR HubConnection the tests use (the same in 3.1 and the current major). */
export interface HubConnectionLike {
  on(method: string, handler: (...args: unknown[]) => void): void;
  onclose(cb: (err?: Error) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  invoke(method: string, ...args: unknown[]): Promise<unknown>;
}

/** The SignalR transport, through a real @microsoft/signalr HubConnection. */
export class SignalRCtiClient extends CtiClient {
  /** Arguments of ServerMessage invocations that were not strings (the client would drop them). */
  readonly nonStringArguments: unknown[] = [];

  constructor(readonly connection: HubConnectionLike) {
    super();
    connection.on('ServerMessage', (arg: unknown) => {
      if (typeof arg !== 'string') {
        this.nonStringArguments.push(arg);
        return;
      }
      this.events.push(parseEnvelope(arg));
    });
    connection.onclose((err) => this.events.markClosed(1000, err?.message ?? ''));
  }

  protected async sendText(text: string): Promise<void> {
    await this.connection.invoke('SendRawMessage', text);
  }

  close(): Promise<void> {
    return this.connection.stop();
  }
}
