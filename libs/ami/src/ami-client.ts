import { BehaviorSubject, Observable, type Subscriber } from 'rxjs';
import {
  isAmiTrue,
  type AmiActionOptions,
  type AmiListResult,
  type AmiOriginateOptions,
  type AmiOriginateResult,
} from './ami-action-queue';
import { AmiError, AmiErrorCode, errorSummary } from './ami.errors';
import { AmiKeepalive } from './ami-keepalive';
import { silentAmiLogger, type AmiLogger } from './ami-logger';
import {
  AmiScenarioPlayer,
  loadScenario,
  replayListComplete,
  replayOriginateResponse,
  replayResponse,
  type AmiReplayOptions,
} from './ami-replay';
import { AmiSocket, type AmiSocketOptions } from './ami-socket';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';
import type { AmiActionFields, AmiPacket } from './protocol';
import { exponentialBackoff, type ReconnectStrategy } from './reconnect-strategy';

export interface AmiClientOptions extends AmiSocketOptions {
  /** Ping an idle connection every this many ms; 0 turns keepalive off. Default 15000. */
  pingIntervalMs?: number;
  /** No answer to a Ping within this many ms: the peer is dead and the connection is re-made. Default 5000. */
  pingTimeoutMs?: number;
  /** When to try again after a failed or lost connection. Default: exponentialBackoff() (0.5 s to 10 s, jitter). */
  reconnectStrategy?: ReconnectStrategy;
  /** Read packets from a scenario file instead of a socket (`asterisk.filePath`); actions are answered locally. */
  replay?: AmiReplayOptions;
}

export type AmiState =
  'connecting' | 'authenticating' | 'ready' | 'disconnected' | 'auth-failed' | 'closed';

export interface AmiStatus {
  state: AmiState;
  /** Why it is not ready (the last error), or what it is doing. Never a secret. */
  reason?: string;
  /** From the banner, once connected. */
  serverVersion?: string;
  /** Epoch ms of the change. */
  since: number;
  /** Reconnect attempts since the last ready state. */
  attempt: number;
}

const DEFAULT_PING_INTERVAL_MS = 15_000;
const DEFAULT_PING_TIMEOUT_MS = 5_000;

/**
 * The AMI client facade: one logical connection to Asterisk that reconnects by itself.
 * `status$` tells its state (a BehaviorSubject: subscribers get the current one at once),
 * `events$` every broadcast event in wire order, `action()`/`list()`/`originate()` send actions
 * while it is ready (else they fail at once with AmiError ConnectionClosed). Each (re)connect
 * logs in again before `ready`; owners resync on every `ready`. Keepalive pings find half-open
 * sockets. With `replay`, packets come from a scenario file and actions are answered locally.
 */
export class AmiClient {
  private readonly logger: AmiLogger;
  private readonly timers: AmiTimers;
  private readonly strategy: ReconnectStrategy;
  private readonly statusSubject: BehaviorSubject<AmiStatus>;
  private readonly events = new PacketFanout();
  private socket: AmiSocket | undefined;
  private keepalive: AmiKeepalive | undefined;
  private player: AmiScenarioPlayer | undefined;
  private reconnectTimer: AmiTimerHandle | undefined;
  private attempt = 0;
  private started = false;
  private closed = false;
  /** The reason last logged at warn/error level, so a repeated failure is logged once per change. */
  private lastLoggedFailure: string | undefined;
  private replaySeq = 0;
  /** Connection attempts so far: numbers the wire records the tap sees. */
  private connSeq = 0;

  readonly status$: Observable<AmiStatus>;
  readonly events$: Observable<AmiPacket>;

  constructor(private readonly options: AmiClientOptions) {
    this.logger = options.logger ?? silentAmiLogger;
    this.timers = options.timers ?? realAmiTimers;
    this.strategy = options.reconnectStrategy ?? exponentialBackoff();
    this.statusSubject = new BehaviorSubject<AmiStatus>({
      state: 'disconnected',
      reason: 'not started',
      since: this.timers.now(),
      attempt: 0,
    });
    this.status$ = this.statusSubject.asObservable();
    this.events$ = this.events.observable;
  }

  get status(): AmiStatus {
    return this.statusSubject.value;
  }

  get isReady(): boolean {
    return this.statusSubject.value.state === 'ready';
  }

  /** Actions of the current connection waiting for an answer, and given up on (late answers dropped). */
  get pendingActions(): { pending: number; abandoned: number } {
    const q = this.socket?.queue;
    return { pending: q?.size ?? 0, abandoned: q?.abandonedSize ?? 0 };
  }

  /** Whether packets come from a scenario file. */
  get replaying(): boolean {
    return this.options.replay !== undefined;
  }

  /** `host:port`, or the scenario file when replaying. */
  get address(): string {
    return this.options.replay
      ? this.options.replay.file
      : `${this.options.host}:${this.options.port}`;
  }

  /**
   * Connects (and keeps reconnecting), or starts the replay. A scenario file that cannot be read
   * throws AmiError(Scenario) naming the file and line.
   */
  start(): void {
    if (this.started) return;
    if (this.closed) throw new AmiError(AmiErrorCode.Closed, 'AMI client closed; make a new one');
    this.started = true;
    if (!this.options.replay) {
      this.connect();
      return;
    }
    try {
      this.startReplay(this.options.replay);
    } catch (err) {
      // Not started: the owner may fix the file and call start() again.
      this.started = false;
      this.setStatus('disconnected', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /** Logs off and stops for good; pending actions fail with AmiError(Closed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== undefined) this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.keepalive?.stop();
    this.player?.stop();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      if (socket.isOpen) await socket.logoff();
      else socket.destroy(new AmiError(AmiErrorCode.Closed, 'AMI client closed'));
    }
    this.setStatus('closed', 'closed by its owner');
    this.statusSubject.complete();
    this.events.complete();
  }

  /** Sends an action; resolves with its response. Rejects AmiActionError (Response: Error) or AmiError. */
  action(fields: AmiActionFields, opts?: AmiActionOptions): Promise<AmiPacket> {
    if (this.options.replay) return Promise.resolve(this.replayAnswer(fields, 'single').response);
    return this.openSocket(fields).then((s) => s.queue.send(fields, opts));
  }

  /** Sends a list action (CoreShowChannels, QueueStatus, ...); resolves with all its items. */
  list(fields: AmiActionFields, opts?: AmiActionOptions): Promise<AmiListResult> {
    if (this.options.replay) {
      const { response, complete } = this.replayAnswer(fields, 'list');
      return Promise.resolve({ response, items: [], complete: complete! });
    }
    return this.openSocket(fields).then((s) => s.queue.sendList(fields, opts));
  }

  /** Sends an Originate; with `Async: true` resolves once its OriginateResponse arrived. */
  originate(fields: AmiActionFields, opts?: AmiOriginateOptions): Promise<AmiOriginateResult> {
    if (this.options.replay) {
      const { response, originateResponse } = this.replayAnswer(fields, 'originate');
      return Promise.resolve({ response, originateResponse });
    }
    return this.openSocket(fields).then((s) => s.queue.sendOriginate(fields, opts));
  }

  private openSocket(fields: AmiActionFields): Promise<AmiSocket> {
    const s = this.socket;
    if (s && s.isOpen) return Promise.resolve(s);
    const st = this.status;
    return Promise.reject(
      new AmiError(
        AmiErrorCode.ConnectionClosed,
        `AMI action ${String(fields.Action)} not sent: not connected to Asterisk (${st.state}${st.reason ? `: ${st.reason}` : ''})`,
      ),
    );
  }

  private connect(): void {
    if (this.closed) return;
    this.setStatus('connecting', `connecting to ${this.address}`);
    this.connSeq += 1;
    const conn = this.connSeq;
    const tap = this.options.tap;
    const socket: AmiSocket = new AmiSocket(
      {
        ...this.options,
        logger: this.logger,
        timers: this.timers,
        tap: tap ? (record) => tap({ ...record, conn }) : undefined,
      },
      {
        onEvent: (packet) => this.emit(packet),
        onData: () => this.keepalive?.activity(),
        onBanner: () => {
          if (this.socket === socket)
            this.setStatus('authenticating', `logging in to ${this.address}`);
        },
        onClose: (error) => this.onLost(socket, error),
      },
    );
    this.socket = socket;
    socket.open().then(
      (handshake) => {
        if (this.socket !== socket || this.closed) return;
        this.attempt = 0;
        if (this.lastLoggedFailure !== undefined) {
          this.logger.info({ address: this.address }, 'AMI: connection restored');
        }
        this.lastLoggedFailure = undefined;
        this.logger.info(
          {
            address: this.address,
            serverVersion: handshake.serverVersion,
            fullyBooted: handshake.fullyBooted,
          },
          `AMI: logged in to ${this.address} (${handshake.banner})`,
        );
        this.startKeepalive(socket);
        this.setStatus('ready', undefined, handshake.serverVersion);
      },
      (err: unknown) => {
        if (this.socket !== socket || this.closed) return;
        this.socket = undefined;
        const error =
          err instanceof AmiError ? err : new AmiError(AmiErrorCode.ConnectionClosed, String(err));
        const auth = error.code === AmiErrorCode.AuthFailed;
        const reason = auth ? `authentication failed: ${error.message}` : error.message;
        this.logFailure(reason, auth, error);
        this.setStatus(auth ? 'auth-failed' : 'disconnected', reason);
        this.scheduleReconnect(error);
      },
    );
  }

  private onLost(socket: AmiSocket, error: AmiError): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.keepalive?.stop();
    this.keepalive = undefined;
    if (this.closed) return;
    this.logFailure(`connection lost: ${error.message}`, false, error);
    this.setStatus('disconnected', error.message);
    this.scheduleReconnect(error);
  }

  /** Logs a failure at warn (error for authentication) once per change of reason; repeats go to debug. */
  private logFailure(reason: string, auth: boolean, error: AmiError): void {
    // Retries of the same failure differ only in numbers (ports, ms): compare without them.
    const key = reason.replace(/\d+/g, '#');
    if (this.lastLoggedFailure === key) {
      this.logger.debug(
        { err: errorSummary(error), attempt: this.attempt },
        `AMI: ${reason} (again)`,
      );
      return;
    }
    this.lastLoggedFailure = key;
    const line = { address: this.address, err: errorSummary(error) };
    if (auth)
      this.logger.error(line, `AMI: ${reason}; check asterisk.userName and asterisk.secret`);
    else this.logger.warn(line, `AMI: ${reason}; retrying`);
  }

  private scheduleReconnect(error: AmiError): void {
    if (this.closed) return;
    this.attempt += 1;
    const delay = this.strategy.delay(this.attempt, error);
    if (delay === null) {
      this.logger.error({ attempt: this.attempt }, 'AMI: the reconnect strategy gave up');
      this.setStatus('closed', `gave up after ${this.attempt} attempts: ${error.message}`);
      return;
    }
    this.logger.debug({ attempt: this.attempt, delayMs: delay }, 'AMI: reconnecting');
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.options.observer?.reconnecting?.(this.attempt);
      this.connect();
    }, delay);
  }

  private startKeepalive(socket: AmiSocket): void {
    this.keepalive?.stop();
    this.keepalive = undefined;
    const intervalMs = this.options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (intervalMs <= 0) return;
    const keepalive = new AmiKeepalive({
      intervalMs,
      timeoutMs: this.options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      timers: this.timers,
      ping: (timeoutMs) => socket.queue.send({ Action: 'Ping' }, { timeoutMs }),
      onDead: (error) => {
        this.logger.warn(
          { address: this.address, err: errorSummary(error) },
          'AMI: peer does not answer; reconnecting',
        );
        socket.destroy(error);
      },
    });
    this.keepalive = keepalive;
    keepalive.start();
  }

  private startReplay(replay: AmiReplayOptions): void {
    const scenario = loadScenario(replay.file, this.options.maxPacketBytes);
    this.logger.info(
      {
        file: replay.file,
        events: scenario.events.length,
        speed: replay.speed ?? 1,
        loop: Boolean(replay.loop),
      },
      'AMI: replaying a scenario file instead of connecting (actions are logged, not sent)',
    );
    this.player = new AmiScenarioPlayer({
      scenario,
      speed: replay.speed,
      loop: replay.loop,
      timers: this.timers,
      logger: this.logger,
      onEvent: (packet) => {
        const o = this.options.observer;
        o?.readStart?.();
        try {
          this.emit(packet);
        } finally {
          o?.readDone?.();
        }
      },
    });
    this.setStatus('ready', `replaying ${replay.file}`, scenario.serverVersion);
    this.player.start();
  }

  private replayAnswer(
    fields: AmiActionFields,
    kind: 'single' | 'list' | 'originate',
  ): { response: AmiPacket; complete?: AmiPacket; originateResponse?: AmiPacket } {
    this.replaySeq += 1;
    const id = `replay-${this.replaySeq}`;
    const { Action: action, ...rest } = fields;
    // Field names only: values may carry secrets or personal data.
    this.logger.info(
      { action, fields: Object.keys(rest) },
      `AMI replay: action ${action} not sent (replay mode)`,
    );
    const response = replayResponse(fields, id, kind === 'list');
    if (kind === 'list') return { response, complete: replayListComplete(fields, id) };
    if (kind === 'originate' && isAmiTrue(fields['Async'])) {
      return { response, originateResponse: replayOriginateResponse(fields, id) };
    }
    return { response };
  }

  /** A broadcast event to the observer, then to the subscribers. */
  private emit(packet: AmiPacket): void {
    this.options.observer?.event?.(packet);
    this.events.next(packet);
  }

  private setStatus(state: AmiState, reason?: string, serverVersion?: string): void {
    if (this.statusSubject.closed) return;
    const prev = this.statusSubject.value;
    const status: AmiStatus = {
      state,
      reason,
      serverVersion: serverVersion ?? prev.serverVersion,
      since: this.timers.now(),
      attempt: this.attempt,
    };
    this.options.observer?.status?.(status);
    this.statusSubject.next(status);
  }
}

/**
 * A hot multicast of packets, like a Subject, without a Subject's per-value bookkeeping (a closure
 * and a copy of the observer list per value): the event stream is the hot path of the client.
 * Subscribers added or removed while a packet is delivered take effect from the next packet.
 */
class PacketFanout {
  private subscribers: Subscriber<AmiPacket>[] = [];
  private completed = false;
  readonly observable = new Observable<AmiPacket>((subscriber) => {
    if (this.completed) {
      subscriber.complete();
      return undefined;
    }
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  });

  next(packet: AmiPacket): void {
    // The array is replaced, never changed, on (un)subscribe: iterating it needs no copy.
    const subs = this.subscribers;
    for (let i = 0; i < subs.length; i++) subs[i]!.next(packet);
  }

  complete(): void {
    if (this.completed) return;
    this.completed = true;
    const subs = this.subscribers;
    this.subscribers = [];
    for (const s of subs) s.complete();
  }
}
