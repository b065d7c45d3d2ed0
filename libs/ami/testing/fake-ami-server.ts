import { createHash, randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { AmiDecoder, AmiPacket, decodeScenario, type AmiScenarioRecord } from '@app/ami';
import { readTrace } from './fixtures';

export type FakeAmiFields = Record<string, string | number | readonly string[]>;

export interface FakeAmiServerOptions {
  username?: string;
  secret?: string;
  /** The banner line sent on accept. Default `Asterisk Call Manager/9.0.0`. */
  banner?: string;
  /** Send `Event: FullyBooted` with the Login answer (as Asterisk does). Default true. */
  fullyBooted?: boolean;
  /** Serve AMI over TLS with this PEM certificate and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Asterisk closes the socket after a failed login (a0 trace). Default true. */
  closeOnAuthFailure?: boolean;
}

/** A handler for one action name; it answers through `conn` (respond, send, ...). */
export type FakeAmiActionHandler = (action: AmiPacket, conn: FakeAmiConnection) => void;

/** One client connection of the fake server. */
export class FakeAmiConnection {
  loggedIn = false;
  challenge: string | undefined;
  private readonly decoder: AmiDecoder;

  constructor(
    readonly socket: Socket,
    server: FakeAmiServer,
  ) {
    this.decoder = new AmiDecoder(
      {
        onPacket: (p) => server.handleAction(p, this),
        onError: () => socket.destroy(),
      },
      { expectBanner: false },
    );
    socket.on('data', (chunk: Buffer) => {
      if (!server.isStalled) this.decoder.push(chunk);
    });
    socket.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** Writes raw text (or bytes) as is. */
  write(data: string | Buffer): void {
    if (this.isOpen) this.socket.write(data);
  }

  /** Writes one packet from fields (arrays repeat the key). */
  send(fields: FakeAmiFields): void {
    this.write(formatPacket(fields));
  }

  /** Answers `action`: `fields` plus its ActionID, Response first (Success unless given). */
  respond(action: AmiPacket, fields: FakeAmiFields = {}): void {
    this.send(withActionId({ Response: 'Success', ...fields }, action));
  }

  /** Answers a list action: the start response, each item and the Complete event, in one write. */
  respondList(action: AmiPacket, items: readonly FakeAmiFields[], completeEvent: string): void {
    const id = action.actionId;
    let out = formatPacket(
      withActionId(
        {
          Response: 'Success',
          EventList: 'start',
          Message: `${completeEvent.replace(/Complete$/, '')} will follow`,
        },
        action,
      ),
    );
    for (const item of items)
      out += formatPacket(id === undefined ? item : { ...item, ActionID: id });
    out += formatPacket(
      withActionId(
        { Event: completeEvent, EventList: 'Complete', ListItems: String(items.length) },
        action,
      ),
    );
    this.write(out);
  }

  /** Closes the socket at once (RST-like). */
  destroy(): void {
    this.socket.destroy();
  }
}

const LIST_COMPLETE: Readonly<Record<string, string>> = {
  coreshowchannels: 'CoreShowChannelsComplete',
  parkedcalls: 'ParkedCallsComplete',
  queuestatus: 'QueueStatusComplete',
  queuesummary: 'QueueSummaryComplete',
  status: 'StatusComplete',
  sippeers: 'PeerlistComplete',
  pjsipshowendpoints: 'EndpointListComplete',
  parkinglots: 'ParkinglotsComplete',
  bridgelist: 'BridgeListComplete',
};

/**
 * An AMI server on 127.0.0.1:0 that behaves like Asterisk 20 for tests: the banner on accept,
 * Login (plain or MD5 challenge; a wrong secret gets `Response: Error` and the socket closed),
 * FullyBooted with the Login answer, Ping, Filter, Logoff, list actions answered from `setList`
 * (empty by default), async Originate answered with an OriginateResponse, anything else with
 * Success. Every action is recorded; handlers can script answers per action; a fixture's
 * broadcast events can be replayed; connections can be dropped or stalled (half-open peer).
 */
export class FakeAmiServer {
  /** Every action received (Login included), in order. */
  readonly actions: AmiPacket[] = [];
  readonly connections: FakeAmiConnection[] = [];
  /** Connections accepted so far (closed ones included). */
  accepted = 0;
  private readonly handlers = new Map<string, FakeAmiActionHandler>();
  private readonly lists = new Map<string, FakeAmiFields[]>();
  private readonly waiters: {
    name: string;
    pred?: (p: AmiPacket) => boolean;
    resolve: (p: AmiPacket) => void;
  }[] = [];
  private stalled = false;
  private refusing = false;
  private uniqueSeq = 0;

  private constructor(
    private readonly server: Server,
    readonly options: Required<Omit<FakeAmiServerOptions, 'tls'>>,
  ) {}

  static async start(options: FakeAmiServerOptions = {}): Promise<FakeAmiServer> {
    const opts = {
      username: options.username ?? 'admin',
      secret: options.secret ?? 'secret',
      banner: options.banner ?? 'Asterisk Call Manager/9.0.0',
      fullyBooted: options.fullyBooted ?? true,
      closeOnAuthFailure: options.closeOnAuthFailure ?? true,
    };
    const server = options.tls
      ? createTlsServer({ cert: options.tls.cert, key: options.tls.key })
      : createServer();
    const fake = new FakeAmiServer(server, opts);
    server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) =>
      fake.accept(socket),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  /** Connections that are open and logged in. */
  get loggedIn(): FakeAmiConnection[] {
    return this.connections.filter((c) => c.loggedIn && c.isOpen);
  }

  /** Replaces the default answer to `action` (case-insensitive name). */
  onAction(action: string, handler: FakeAmiActionHandler): void {
    this.handlers.set(action.toLowerCase(), handler);
  }

  /** Items of a list action's answer (CoreShowChannels, ParkedCalls, QueueStatus ...). */
  setList(action: string, items: readonly FakeAmiFields[]): void {
    this.lists.set(action.toLowerCase(), [...items]);
  }

  /** Forgets the recorded actions. */
  clearActions(): void {
    this.actions.length = 0;
  }

  /** The first recorded action named `action` (matching `pred`), now or when it comes. */
  waitForAction(
    action: string,
    pred?: (p: AmiPacket) => boolean,
    timeoutMs = 5000,
  ): Promise<AmiPacket> {
    const name = action.toLowerCase();
    const found = this.actions.find(
      (a) => a.get('Action')?.toLowerCase() === name && (!pred || pred(a)),
    );
    if (found) return Promise.resolve(found);
    return new Promise<AmiPacket>((resolve, reject) => {
      const waiter = {
        name,
        pred,
        resolve: (p: AmiPacket) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const seen = this.actions.map((a) => a.get('Action')).join(', ') || 'none';
        reject(
          new Error(
            `FakeAmiServer: no ${action} action within ${timeoutMs} ms (actions seen: ${seen})`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends an event (fields or raw AMI text) to every logged-in connection. */
  broadcast(event: FakeAmiFields | string): void {
    const data = typeof event === 'string' ? event : formatPacket(event);
    for (const c of this.loggedIn) c.write(data);
  }

  /**
   * Replays a fixture's broadcast events (not the answers to the recorder's actions) to every
   * logged-in connection, in order; `speed` 0 (default) sends them as fast as possible (each in
   * its own write, so clients see many reads), otherwise at the recorded pace times speed.
   * `mapActionId` rewrites the ActionID of events that carry one (OriginateResponse).
   */
  async replay(
    fixture: string | readonly AmiScenarioRecord[],
    opts: {
      speed?: number;
      mapActionId?: (recorded: string) => string | undefined;
      filter?: (p: AmiPacket) => boolean;
    } = {},
  ): Promise<number> {
    const records = typeof fixture === 'string' ? readTrace(fixture) : fixture;
    const scenario = decodeScenario(
      records as AmiScenarioRecord[],
      typeof fixture === 'string' ? fixture : 'records',
    );
    const speed = opts.speed ?? 0;
    const t0 = scenario.events[0]?.at ?? 0;
    const started = Date.now();
    let sent = 0;
    for (const { at, packet } of scenario.events) {
      if (opts.filter && !opts.filter(packet)) continue;
      if (speed > 0) {
        const due = started + ((at - t0) * 1000) / speed - Date.now();
        if (due > 0) await delay(due);
      } else if (sent % 16 === 0) {
        await delay(0);
      }
      let p = packet;
      const id = p.actionId;
      if (id !== undefined && opts.mapActionId) {
        const mapped = opts.mapActionId(id);
        if (mapped !== undefined) {
          p = new AmiPacket(
            p.keys,
            p.keys.map((k, i) => (k.toLowerCase() === 'actionid' ? mapped : p.values[i]!)),
          );
        }
      }
      this.broadcast(p.toString());
      sent += 1;
    }
    await delay(0);
    return sent;
  }

  /** Destroys every connection (a crash or network cut, as the peer sees it). */
  dropAll(): void {
    for (const c of this.connections) c.destroy();
  }

  /** While stalled, nothing is read or answered, sockets stay open: a half-open peer. */
  stall(on = true): void {
    this.stalled = on;
  }

  /** While refusing, new connections are accepted and closed at once, before any banner. */
  refuse(on = true): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.accepted += 1;
    if (this.refusing) {
      socket.destroy();
      return;
    }
    const conn = new FakeAmiConnection(socket, this);
    this.connections.push(conn);
    socket.once('close', () => {
      const i = this.connections.indexOf(conn);
      if (i >= 0) this.connections.splice(i, 1);
    });
    socket.write(`${this.options.banner}\r\n`);
  }

  /** @internal Called by connections for each decoded action. */
  handleAction(action: AmiPacket, conn: FakeAmiConnection): void {
    this.actions.push(action);
    const name = (action.get('Action') ?? '').toLowerCase();
    for (const w of [...this.waiters]) {
      if (w.name === name && (!w.pred || w.pred(action))) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(action);
      }
    }
    const custom = this.handlers.get(name);
    if (custom) {
      custom(action, conn);
      return;
    }
    this.defaultAnswer(name, action, conn);
  }

  private defaultAnswer(name: string, action: AmiPacket, conn: FakeAmiConnection): void {
    if (name === '') {
      conn.respond(action, { Response: 'Error', Message: 'Missing action in request' });
      return;
    }
    if (name === 'challenge') {
      conn.challenge = String(randomInt(100_000_000, 999_999_999));
      conn.respond(action, { Challenge: conn.challenge });
      return;
    }
    if (name === 'login') {
      this.login(action, conn);
      return;
    }
    if (!conn.loggedIn) {
      conn.respond(action, { Response: 'Error', Message: 'Permission denied' });
      return;
    }
    if (name === 'ping') {
      conn.respond(action, { Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) });
      return;
    }
    if (name === 'logoff') {
      conn.respond(action, { Response: 'Goodbye', Message: 'Thanks for all the fish.' });
      conn.socket.end();
      return;
    }
    const complete = LIST_COMPLETE[name];
    if (complete) {
      conn.respondList(action, this.lists.get(name) ?? [], complete);
      return;
    }
    if (name === 'originate') {
      conn.respond(action, { Message: 'Originate successfully queued' });
      if ((action.get('Async') ?? '').toLowerCase() === 'true') {
        this.uniqueSeq += 1;
        conn.send(
          withActionId(
            {
              Event: 'OriginateResponse',
              Privilege: 'call,all',
              Response: 'Success',
              Channel: action.get('Channel') ?? '',
              Context: action.get('Context') ?? '',
              Exten: action.get('Exten') ?? '',
              Application: action.get('Application') ?? '',
              Data: action.get('Data') ?? '',
              Reason: '4',
              Uniqueid: `1700000000.${this.uniqueSeq}`,
              CallerIDNum: '<unknown>',
              CallerIDName: '<unknown>',
            },
            action,
          ),
        );
      }
      return;
    }
    conn.respond(action, { Message: `${action.get('Action')} accepted` });
  }

  private login(action: AmiPacket, conn: FakeAmiConnection): void {
    const { username, secret } = this.options;
    const user = action.get('Username') ?? '';
    let ok: boolean;
    if ((action.get('AuthType') ?? '').toLowerCase() === 'md5') {
      const expected = conn.challenge
        ? createHash('md5')
            .update(conn.challenge + secret)
            .digest('hex')
        : '';
      ok = user === username && expected !== '' && action.get('Key') === expected;
    } else {
      ok = user === username && action.get('Secret') === secret;
    }
    if (!ok) {
      conn.respond(action, { Response: 'Error', Message: 'Authentication failed' });
      if (this.options.closeOnAuthFailure) conn.socket.end();
      return;
    }
    conn.loggedIn = true;
    let out = formatPacket(
      withActionId({ Response: 'Success', Message: 'Authentication accepted' }, action),
    );
    if (this.options.fullyBooted) {
      out += formatPacket({
        Event: 'FullyBooted',
        Privilege: 'system,all',
        Uptime: '18',
        LastReload: '18',
        Status: 'Fully Booted',
      });
    }
    conn.write(out);
  }
}

/** AMI text of one packet (CRLF, an empty line at the end); arrays repeat the key. */
export function formatPacket(fields: FakeAmiFields): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) for (const x of v as readonly string[]) out += `${k}: ${x}\r\n`;
    else out += `${k}: ${String(v)}\r\n`;
  }
  return out + '\r\n';
}

function withActionId(fields: FakeAmiFields, action: AmiPacket): FakeAmiFields {
  const id = action.actionId;
  if (id === undefined) return fields;
  const [first, ...rest] = Object.entries(fields);
  return Object.fromEntries(first ? [first, ['ActionID', id], ...rest] : [['ActionID', id]]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
