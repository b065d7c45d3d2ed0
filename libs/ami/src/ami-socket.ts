/**
 * Owns one AMI connection: the TCP/TLS socket, its decoder and action queue, the order of the
 * handshake (banner, login, filters, FullyBooted: the login itself is ami-login.ts), the routing
 * of packets, and the one close that fails everything pending. Options and types:
 * ami-socket-options.ts.
 */
import type { Socket } from 'node:net';
import { AmiActionQueue } from './ami-action-queue';
import { AmiError, AmiErrorCode, errorSummary } from './ami.errors';
import { silentAmiLogger, type AmiLogger } from './ami-logger';
import { amiLogin, amiSendFilters, expectFullyBooted } from './ami-login';
import type {
  AmiHandshake,
  AmiSocketHandlers,
  AmiSocketOptions,
  AmiWireRecord,
} from './ami-socket-options';
import { openTransport } from './ami-transport';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';
import { AmiDecoder, type AmiPacket } from './protocol';

export {
  DEFAULT_AMI_EVENT_FILTER,
  type AmiAuthType,
  type AmiHandshake,
  type AmiSocketHandlers,
  type AmiSocketOptions,
  type AmiWireRecord,
} from './ami-socket-options';

/** Actions in a row without any answer that make a peer deaf (AmiSocketOptions.deafAfterTimeouts). */
export const DEFAULT_DEAF_AFTER_TIMEOUTS = 3;

/** A packet without Event: not AMI unless it is a response (raw lines only in `Response: Follows`). */
function notAResponse(response: string | undefined, rawLines: number): boolean {
  return response === undefined || (rawLines > 0 && response !== 'Follows');
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
      onNoAnswer: (consecutive) => this.onNoAnswer(consecutive),
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
    const { socket, connectEvent } = openTransport(host, port, tls, (chunk) =>
      this.received(chunk, true),
    );
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
    const event = packet.event;
    // Asterisk sends events and responses; lines without a colon only in an old-style command
    // answer (`Response: Follows`). Anything else is not AMI (garbage, another protocol): reset.
    if (
      event === undefined
        ? notAResponse(packet.response, packet.rawLineCount)
        : packet.rawLineCount > 0
    ) {
      this.notAmi(packet);
      return;
    }
    if (this.queue.handle(packet)) return;
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

  private notAmi(packet: AmiPacket): void {
    // What the peer sent is not shown (it may hold anything); its size is.
    const error = new AmiError(
      AmiErrorCode.Protocol,
      `AMI protocol error: ${this.address} sent ${packet.size} header line(s) and ${packet.rawLineCount} other line(s) that are neither an event nor a response`,
    );
    this.options.observer?.decodeError?.(error);
    this.logger.warn(
      { err: errorSummary(error), address: this.address },
      'AMI: protocol error, resetting the connection',
    );
    this.destroy(error);
  }

  /** An action got no answer at all: this many in a row mean the peer is deaf (reset). */
  private onNoAnswer(consecutive: number): void {
    const limit = this.options.deafAfterTimeouts ?? DEFAULT_DEAF_AFTER_TIMEOUTS;
    if (this.phase !== 'open' || limit <= 0 || consecutive < limit) return;
    const error = new AmiError(
      AmiErrorCode.Timeout,
      `AMI peer ${this.address} answered none of the last ${consecutive} actions (each timed out) though the connection is open: deaf, resetting it`,
    );
    this.logger.warn(
      { err: errorSummary(error), address: this.address },
      'AMI: the peer does not answer actions; reconnecting',
    );
    this.destroy(error);
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
    await amiLogin(this.queue, this.options, this.logger, this.address);
    this.phase = 'filters';
    const rejectedFilters = await amiSendFilters(this.queue, this.options, this.logger);
    if (!this.fullyBooted && expectFullyBooted(this.options)) {
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
