import { createHash } from 'node:crypto';
import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { AmiActionError } from './ami-action-error';
import { AmiActionQueue } from './ami-action-queue';
import { AmiError, AmiErrorCode } from './ami.errors';
import { silentAmiLogger, type AmiLogger } from './ami-logger';
import type { AmiObserver } from './ami-observer';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';
import { AmiDecoder, type AmiPacket } from './protocol';

/**
 * Server-side event filter sent after login unless the owner gives its own: the noise a
 * messaging host never needs (Asterisk matches each line as a regular expression against the
 * event text; a leading `!` drops what matches).
 */
export const DEFAULT_AMI_EVENT_FILTER: readonly string[] = Object.freeze([
  '!Event: VarSet',
  '!Event: Newexten',
  '!Event: RTCP',
  '!Event: Cdr',
  '!Event: CEL',
  '!Event: AGIExec',
  '!Event: ChannelTalking',
  '!Event: SuccessfulAuth',
  '!Event: ChallengeSent',
]);

export type AmiAuthType = 'plain' | 'md5';

/** The read buffer of a plain TCP connection. */
const READ_BUFFER_BYTES = 64 * 1024;

/** One chunk of wire traffic, as the recorder stores it. `meta` carries a note instead of bytes. */
export interface AmiWireRecord {
  dir: 'rx' | 'tx' | 'meta';
  bytes: Buffer;
  note?: string;
  /** For `tx`: the Action written. */
  action?: string;
  /** Set by AmiClient: 1 for its first connection attempt, one more for each later attempt. */
  conn?: number;
}

export interface AmiSocketOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** AMI over TLS: true, or tls.connect options (ca, rejectUnauthorized, servername, ...). */
  tls?: boolean | TlsConnectionOptions;
  authType?: AmiAuthType;
  /** The Login's `Events:` value: 'on' (default), 'off', or event classes ('call,agent,system'). */
  events?: string;
  /** Lines sent as `Action: Filter` / `Operation: Add` after login. Default DEFAULT_AMI_EVENT_FILTER. */
  eventFilter?: readonly string[];
  /** Budget of the whole handshake: TCP/TLS connect, banner, login, filters, FullyBooted. Default 10000. */
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  maxPacketBytes?: number;
  maxPendingActions?: number;
  logger?: AmiLogger;
  timers?: AmiTimers;
  /** Sees every chunk read and written, unredacted (the recorder redacts). */
  tap?: (record: AmiWireRecord) => void;
  /** Instrumentation hooks (metrics): reads, decode errors, actions. */
  observer?: AmiObserver;
}

export interface AmiSocketHandlers {
  /** Every Event packet not owned by a pending action, in wire order (also during the handshake). */
  onEvent(packet: AmiPacket): void;
  /** Bytes arrived (keepalive activity): once per read, not per packet. */
  onData?(): void;
  /** The banner arrived: the login starts. */
  onBanner?(version: string): void;
  /** The connection ended after open() resolved: EOF, socket error, protocol error or destroy(). */
  onClose(error: AmiError): void;
}

export interface AmiHandshake {
  /** From the banner: `Asterisk Call Manager/9.0.0` gives `9.0.0`. */
  serverVersion: string;
  banner: string;
  /** Whether `Event: FullyBooted` was seen (false: not within the handshake budget). */
  fullyBooted: boolean;
  /** Filter lines Asterisk refused, with its message. */
  rejectedFilters: { filter: string; message: string }[];
}

type Phase = 'connecting' | 'banner' | 'login' | 'filters' | 'booting' | 'open' | 'closed';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * One AMI connection with its login handshake (node-redis `socket.ts` style: nothing is
 * `ready` before the handshake is done). TCP or TLS; checks the banner Asterisk sends on
 * accept; logs in (plain, or MD5 challenge); sends the event filter; waits for FullyBooted.
 * Actions go through `queue`, which is flushed with ConnectionClosed when the socket ends.
 * A socket is used once: the client makes a new one per (re)connect.
 */
export class AmiSocket {
  readonly queue: AmiActionQueue;
  private readonly logger: AmiLogger;
  private readonly timers: AmiTimers;
  private socket: Socket | undefined;
  private decoder: AmiDecoder | undefined;
  private phase: Phase = 'connecting';
  private opened = false;
  private closeError: AmiError | undefined;
  private fullyBooted = false;
  private banner = '';
  private serverVersion = '';
  private handshakeTimer: AmiTimerHandle | undefined;
  private bootWaiter: (() => void) | undefined;
  private failHandshake: ((error: AmiError) => void) | undefined;
  private closeWaiters: (() => void)[] = [];

  constructor(
    private readonly options: AmiSocketOptions,
    private readonly handlers: AmiSocketHandlers,
  ) {
    this.logger = options.logger ?? silentAmiLogger;
    this.timers = options.timers ?? realAmiTimers;
    this.queue = new AmiActionQueue({
      write: (bytes, action) => this.write(bytes, action),
      defaultTimeoutMs: options.actionTimeoutMs,
      maxPending: options.maxPendingActions,
      timers: this.timers,
      observer: options.observer,
    });
  }

  /** `host:port` for messages. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True between a successful open() and the end of the connection. */
  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** Connects and runs the handshake. Rejects AmiError: AuthFailed, Timeout, Protocol, ConnectionClosed, Injection. */
  open(): Promise<AmiHandshake> {
    if (this.socket)
      return Promise.reject(
        new Error('AmiSocket.open() called twice: make a new AmiSocket per connection'),
      );
    return new Promise<AmiHandshake>((resolve, reject) => {
      let settled = false;
      this.failHandshake = (error) => {
        if (settled) return;
        settled = true;
        this.failHandshake = undefined;
        this.clearHandshakeTimer();
        reject(error);
      };
      const budget = positive(this.options.connectTimeoutMs) ?? DEFAULT_CONNECT_TIMEOUT_MS;
      this.handshakeTimer = this.timers.setTimeout(() => {
        this.handshakeTimer = undefined;
        if (this.phase === 'booting' && this.bootWaiter) {
          // Logged in, but no FullyBooted (e.g. the AMI user may not read `system`): go on.
          this.logger.warn(
            { address: this.address },
            'AMI: no FullyBooted event within the handshake budget; continuing',
          );
          this.bootWaiter();
          return;
        }
        this.destroy(
          new AmiError(
            AmiErrorCode.Timeout,
            `AMI handshake with ${this.address} timed out after ${budget} ms (${this.phase})`,
          ),
        );
      }, budget);

      this.connect();
      this.handshake().then(
        (result) => {
          if (settled) return;
          settled = true;
          this.failHandshake = undefined;
          this.clearHandshakeTimer();
          this.phase = 'open';
          this.opened = true;
          resolve(result);
        },
        (err: unknown) => {
          const error = toAmiError(err, this.address);
          this.destroy(error);
          this.failHandshake?.(error);
        },
      );
    });
  }

  /**
   * Ends the connection now. Pending actions fail with `error` (default ConnectionClosed); after
   * open() resolved, handlers.onClose(error) is called once.
   */
  destroy(error?: AmiError): void {
    const err =
      error ??
      new AmiError(AmiErrorCode.ConnectionClosed, `AMI connection to ${this.address} closed`);
    this.closeError ??= err;
    this.socket?.destroy();
    this.finish();
  }

  /** Sends Logoff (waiting up to timeoutMs for Goodbye), then closes the socket. Never rejects. */
  async logoff(timeoutMs = 2000): Promise<void> {
    if (this.phase === 'open') {
      try {
        await this.queue.send({ Action: 'Logoff' }, { timeoutMs });
      } catch (err) {
        this.logger.debug({ err: errorSummary(err) }, 'AMI: Logoff not answered');
      }
    }
    const closed = new Promise<void>((resolve) => {
      if (this.phase === 'closed') resolve();
      else this.closeWaiters.push(resolve);
    });
    this.socket?.end();
    const t = this.timers.setTimeout(
      () => this.destroy(new AmiError(AmiErrorCode.Closed, 'AMI client closed')),
      timeoutMs,
    );
    await closed;
    this.timers.clearTimeout(t);
  }

  private connect(): void {
    const { host, port, tls } = this.options;
    let socket: Socket;
    let connectEvent: string;
    if (tls) {
      const tlsOptions: TlsConnectionOptions = typeof tls === 'object' ? { ...tls } : {};
      if (tlsOptions.servername === undefined && !isIP(host)) tlsOptions.servername = host;
      socket = tlsConnect({ ...tlsOptions, host, port });
      connectEvent = 'secureConnect';
    } else {
      // Plain TCP reads into one buffer, filled again and again (no new Buffer per read); the
      // decoder copies what it keeps of it.
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      socket = netConnect({
        host,
        port,
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            this.received(Buffer.from(buf.buffer, buf.byteOffset, n), true);
            return true;
          },
        },
      });
      connectEvent = 'connect';
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(connectEvent, () => {
      if (this.phase === 'connecting') this.phase = 'banner';
      socket.setKeepAlive(true, 30_000);
      this.tap('meta', Buffer.alloc(0), `connected to ${this.address}`);
      this.logger.debug(
        { address: this.address, tls: Boolean(tls) },
        'AMI: connected, waiting for the banner',
      );
    });
    this.decoder = new AmiDecoder(
      {
        onBanner: (version, line) => this.onBanner(version, line),
        onPacket: (packet) => this.onPacket(packet),
        onError: (error) => {
          this.options.observer?.decodeError?.(error);
          this.logger.warn(
            { err: errorSummary(error), address: this.address },
            'AMI: protocol error, resetting the connection',
          );
          this.destroy(error);
        },
      },
      { maxPacketBytes: this.options.maxPacketBytes, expectBanner: true },
    );
    // TLS sockets read into new Buffers ('data'); plain ones into readBuffer (onread).
    socket.on('data', (chunk: Buffer) => this.received(chunk, false));
    socket.on('end', () => {
      this.tap('meta', Buffer.alloc(0), 'EOF (peer closed the connection)');
      this.closeError ??= new AmiError(
        AmiErrorCode.ConnectionClosed,
        `AMI connection closed by ${this.address}`,
      );
    });
    socket.on('error', (err: Error) => {
      this.closeError ??= new AmiError(AmiErrorCode.ConnectionClosed, err.message, { cause: err });
    });
    socket.on('close', () => this.finish());
  }

  /** Bytes read; `reused`: chunk is the read buffer, filled again after this returns. */
  private received(chunk: Buffer, reused: boolean): void {
    // The recorder may keep what it is given past this call.
    if (this.options.tap) this.tap('rx', reused ? Buffer.from(chunk) : chunk);
    this.handlers.onData?.();
    const observer = this.options.observer;
    observer?.readStart?.();
    try {
      this.decoder?.push(chunk, reused);
    } finally {
      observer?.readDone?.();
    }
  }

  private bannerWaiter: ((line: string) => void) | undefined;

  private onBanner(version: string, line: string): void {
    this.banner = line;
    this.serverVersion = version;
    this.handlers.onBanner?.(version);
    this.bannerWaiter?.(line);
  }

  private onPacket(packet: AmiPacket): void {
    if (this.queue.handle(packet)) return;
    const event = packet.event;
    if (event !== undefined) {
      if (event === 'FullyBooted') {
        this.fullyBooted = true;
        this.bootWaiter?.();
      }
      this.handlers.onEvent(packet);
      return;
    }
    this.logger.debug(
      { actionId: packet.actionId, response: packet.response },
      'AMI: a response for no pending action (late answer after a timeout or abort), dropped',
    );
  }

  private async handshake(): Promise<AmiHandshake> {
    await new Promise<void>((resolve, reject) => {
      if (this.banner) return resolve();
      this.bannerWaiter = () => {
        this.bannerWaiter = undefined;
        resolve();
      };
      this.failBanner = reject;
    });
    this.failBanner = undefined;
    this.phase = 'login';
    await this.login();
    this.phase = 'filters';
    const rejectedFilters = await this.sendFilters();
    if (!this.fullyBooted && this.expectFullyBooted()) {
      this.phase = 'booting';
      await new Promise<void>((resolve) => {
        this.bootWaiter = () => {
          this.bootWaiter = undefined;
          resolve();
        };
      });
    }
    return {
      serverVersion: this.serverVersion,
      banner: this.banner,
      fullyBooted: this.fullyBooted,
      rejectedFilters,
    };
  }

  private failBanner: ((error: AmiError) => void) | undefined;

  private async login(): Promise<void> {
    const { username, secret } = this.options;
    const events = this.options.events ?? 'on';
    try {
      if ((this.options.authType ?? 'plain') === 'md5') {
        const challenge = await this.queue.send({ Action: 'Challenge', AuthType: 'md5' });
        const nonce = challenge.get('Challenge');
        if (!nonce)
          throw new AmiError(
            AmiErrorCode.Protocol,
            `AMI Challenge answered without a Challenge value`,
          );
        const key = createHash('md5')
          .update(nonce + secret)
          .digest('hex');
        await this.queue.send({
          Action: 'Login',
          AuthType: 'md5',
          Username: username,
          Key: key,
          Events: events,
        });
      } else {
        await this.queue.send({
          Action: 'Login',
          Username: username,
          Secret: secret,
          Events: events,
        });
      }
    } catch (err) {
      if (err instanceof AmiActionError) {
        throw new AmiError(AmiErrorCode.AuthFailed, err.serverMessage || 'Authentication failed');
      }
      if (err instanceof AmiError && err.code === AmiErrorCode.Injection) {
        // Never echo what was refused: it may be the secret.
        throw new AmiError(
          AmiErrorCode.Injection,
          'AMI username or secret contains CR or LF; not sent',
        );
      }
      throw err;
    }
    this.logger.debug({ address: this.address, username }, 'AMI: logged in');
  }

  private async sendFilters(): Promise<{ filter: string; message: string }[]> {
    const filters = this.options.eventFilter ?? DEFAULT_AMI_EVENT_FILTER;
    const results = await Promise.allSettled(
      filters.map((filter) =>
        this.queue.send({ Action: 'Filter', Operation: 'Add', Filter: filter }),
      ),
    );
    const rejected: { filter: string; message: string }[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      if (r.reason instanceof AmiActionError) {
        rejected.push({ filter: filters[i]!, message: r.reason.serverMessage });
        return;
      }
      throw r.reason;
    });
    if (rejected.length > 0) {
      this.logger.warn(
        { rejected },
        'AMI: Asterisk refused some event filter lines; those events still arrive',
      );
    }
    return rejected;
  }

  /** FullyBooted is a `system` event: only wait for it when the session receives that class. */
  private expectFullyBooted(): boolean {
    const events = (this.options.events ?? 'on')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    return events.some((e) => ['on', 'yes', 'true', 'all', 'system'].includes(e));
  }

  private write(bytes: Buffer, action: string): void {
    const socket = this.socket;
    if (!socket || this.phase === 'closed' || socket.destroyed || !socket.writable) {
      throw new AmiError(
        AmiErrorCode.ConnectionClosed,
        `AMI action ${action} not sent: not connected to ${this.address}`,
      );
    }
    this.tap('tx', bytes, undefined, action);
    socket.write(bytes);
  }

  private tap(dir: AmiWireRecord['dir'], bytes: Buffer, note?: string, action?: string): void {
    const tap = this.options.tap;
    if (!tap) return;
    try {
      tap({ dir, bytes, note, action });
    } catch (err) {
      this.logger.warn({ err: errorSummary(err) }, 'AMI: the wire tap threw; ignored');
    }
  }

  /** Runs once, when the socket is gone: fails what waits and tells the owner. */
  private finish(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.clearHandshakeTimer();
    const error =
      this.closeError ??
      new AmiError(AmiErrorCode.ConnectionClosed, `AMI connection to ${this.address} closed`);
    this.closeError = error;
    this.decoder?.reset();
    this.tap('meta', Buffer.alloc(0), `closed: ${error.message}`);
    this.queue.end(error);
    this.bootWaiter = undefined;
    this.failBanner?.(error);
    this.failBanner = undefined;
    this.failHandshake?.(error);
    this.socket?.destroy();
    for (const w of this.closeWaiters.splice(0)) w();
    if (this.opened) this.handlers.onClose(error);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) this.timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }
}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function toAmiError(err: unknown, address: string): AmiError {
  if (err instanceof AmiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AmiError(
    AmiErrorCode.ConnectionClosed,
    `AMI connection to ${address} failed: ${message}`,
    { cause: err },
  );
}

/** What of an error goes into a log line: code and message (never fields of an action). */
export function errorSummary(err: unknown): { code?: string; message: string } {
  if (err instanceof AmiError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}
