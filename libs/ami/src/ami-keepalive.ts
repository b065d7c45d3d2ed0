import { AmiError, AmiErrorCode } from './ami.errors';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';

export interface AmiKeepaliveOptions {
  /** A Ping goes out when nothing was received for this many ms. */
  intervalMs: number;
  /** No answer to the Ping within this many ms: the peer is dead (half-open socket). */
  timeoutMs: number;
  /** Sends one Ping; resolves when answered. Its own rejection with anything but Timeout is not fatal. */
  ping(timeoutMs: number): Promise<unknown>;
  /** Called once when the peer is found dead; the keepalive stops itself first. */
  onDead(error: AmiError): void;
  timers?: AmiTimers;
}

/**
 * Detects a dead peer on an idle connection (MQTT.js KeepaliveManager style, with injectable
 * timers). Received traffic counts as life, so a busy connection is never pinged; an idle one
 * gets a Ping every intervalMs, and a Ping not answered within timeoutMs declares the peer dead.
 */
export class AmiKeepalive {
  private readonly timers: AmiTimers;
  private timer: AmiTimerHandle | undefined;
  private deadline: AmiTimerHandle | undefined;
  private lastActivity = 0;
  private running = false;
  /** Bumped on stop(), so that the answer of a Ping from an earlier run is ignored. */
  private generation = 0;

  constructor(private readonly options: AmiKeepaliveOptions) {
    if (!(options.intervalMs > 0) || !(options.timeoutMs > 0)) {
      throw new RangeError('AmiKeepalive: intervalMs and timeoutMs must be > 0');
    }
    this.timers = options.timers ?? realAmiTimers;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastActivity = this.timers.now();
    this.schedule(this.options.intervalMs);
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    this.clear();
  }

  /** Something arrived from the peer: it is alive now. Cheap: only a timestamp. */
  activity(): void {
    this.lastActivity = this.timers.now();
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.tick(), Math.max(0, ms));
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running) return;
    const idle = this.timers.now() - this.lastActivity;
    if (idle < this.options.intervalMs) {
      this.schedule(this.options.intervalMs - idle);
      return;
    }
    const gen = this.generation;
    const { timeoutMs } = this.options;
    this.deadline = this.timers.setTimeout(() => {
      this.deadline = undefined;
      if (gen !== this.generation || !this.running) return;
      this.stop();
      this.options.onDead(
        new AmiError(
          AmiErrorCode.Timeout,
          `AMI keepalive: no answer to Ping within ${timeoutMs} ms (dead peer)`,
        ),
      );
    }, timeoutMs);
    this.options.ping(timeoutMs).then(
      () => this.answered(gen),
      (err: unknown) => {
        // A Ping refused (queue full) or answered with an error still means the peer lives;
        // a timeout is left to the deadline, a closed connection to the owner's stop().
        if (
          err instanceof AmiError &&
          (err.code === AmiErrorCode.Timeout || err.code === AmiErrorCode.ConnectionClosed)
        ) {
          return;
        }
        this.answered(gen);
      },
    );
  }

  private answered(gen: number): void {
    if (gen !== this.generation || !this.running) return;
    if (this.deadline !== undefined) this.timers.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.lastActivity = this.timers.now();
    this.schedule(this.options.intervalMs);
  }

  private clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.deadline !== undefined) this.timers.clearTimeout(this.deadline);
    this.timer = undefined;
    this.deadline = undefined;
  }
}
