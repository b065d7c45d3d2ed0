// The AMI connection's metrics: libs/ami's observer seam (AmiObserver) turned into prom-client
// counters, plus the read clock the fan-out latency is measured from and the state the console shows.
import { Injectable } from '@nestjs/common';
import type {
  AmiActionOutcome,
  AmiError,
  AmiObservedStatus,
  AmiObserver,
  AmiPacket,
} from '@app/ami';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { ChildCache, LabelGuard, MetricsService } from './metrics.service';

/** The AMI connection as the console and the event stream show it. */
export interface AmiView {
  state: string;
  connected: boolean;
  reason?: string;
  serverVersion?: string;
  /** Epoch ms of the last change. */
  since: number;
  reconnects: number;
}

/** Seconds: AMI actions answer in a few ms on a LAN, Originate may wait for the phone. */
const ACTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

@Injectable()
export class AmiMetrics implements AmiObserver {
  private readonly events: ChildCache<Counter.Internal>;
  private readonly actions: Counter<'action' | 'result'>;
  private readonly actionSeconds: Histogram<'action'>;
  private readonly actionNames = new LabelGuard(100);
  private readonly decodeErrors: Counter<'code'>;
  private readonly reconnects: Counter;
  private readonly listeners = new Set<(view: AmiView) => void>();
  private view: AmiView = {
    state: 'disconnected',
    connected: false,
    since: Date.now(),
    reconnects: 0,
  };
  /** performance.now() when the bytes being handled now were read; undefined between reads. */
  private readAt: number | undefined;

  constructor(metrics: MetricsService) {
    const received = metrics.counter({
      name: 'messaging_host_ami_events_total',
      help: 'AMI events received from Asterisk, by event name.',
      labelNames: ['event'],
    });
    this.events = new ChildCache((event) => received.labels(event), new LabelGuard(300));
    this.actions = metrics.counter({
      name: 'messaging_host_ami_actions_total',
      help: 'AMI actions sent, by action and result (success, error, timeout, disconnected, aborted, refused).',
      labelNames: ['action', 'result'],
    });
    this.actionSeconds = metrics.histogram({
      name: 'messaging_host_ami_action_duration_seconds',
      help: 'Time from sending an AMI action to its answer (any result), by action.',
      labelNames: ['action'],
      buckets: ACTION_BUCKETS,
    });
    this.decodeErrors = metrics.counter({
      name: 'messaging_host_ami_decode_errors_total',
      help: 'AMI streams refused by the decoder (each resets the connection), by error code.',
      labelNames: ['code'],
    });
    this.reconnects = metrics.counter({
      name: 'messaging_host_ami_reconnects_total',
      help: 'AMI reconnection attempts (after a failed or lost connection).',
    });
    const connected: Gauge = metrics.gauge({
      name: 'messaging_host_ami_connected',
      help: '1 while logged in to Asterisk (or replaying a scenario), else 0.',
      collect: () => {
        connected.set(this.view.connected ? 1 : 0);
      },
    });
  }

  /** The connection now. */
  current(): AmiView {
    return this.view;
  }

  /** Calls `fn` on every change of the connection; returns the unsubscribe function. */
  onChange(fn: (view: AmiView) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Seconds since the AMI bytes being handled now were read, or undefined outside a read. */
  sinceRead(): number | undefined {
    return this.readAt === undefined ? undefined : (performance.now() - this.readAt) / 1000;
  }

  // ---------------------------------------------------------------- AmiObserver

  readStart(): void {
    this.readAt = performance.now();
  }

  readDone(): void {
    this.readAt = undefined;
  }

  event(packet: AmiPacket): void {
    this.events.get(packet.event ?? '').inc();
  }

  action(name: string, outcome: AmiActionOutcome, ms: number): void {
    const action = this.actionNames.value(name || 'none');
    this.actions.labels(action, outcome).inc();
    this.actionSeconds.labels(action).observe(ms / 1000);
  }

  decodeError(error: AmiError): void {
    this.decodeErrors.labels(error.code).inc();
  }

  reconnecting(): void {
    this.reconnects.inc();
    this.view = { ...this.view, reconnects: this.view.reconnects + 1 };
  }

  status(s: AmiObservedStatus): void {
    this.view = {
      state: s.state,
      connected: s.state === 'ready',
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.serverVersion ? { serverVersion: s.serverVersion } : {}),
      since: s.since,
      reconnects: this.view.reconnects,
    };
    for (const fn of [...this.listeners]) {
      try {
        fn(this.view);
      } catch {
        // A listener's failure must not reach the AMI client.
        continue;
      }
    }
  }
}
