// The client gateway's metrics: the GatewayObserver the gateway reports to (commands, frames,
// fan-out latency, dropped clients) and the connected clients read from the gateway at scrape time.
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MsgEventType } from '@app/messaging';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { ClientGateway } from '../gateway/client-gateway.service';
import type { GatewayObserver } from '../gateway/gateway-observer';
import { AmiMetrics } from './ami-metrics';
import { ChildCache, LabelGuard, MetricsService } from './metrics.service';

/** Seconds from the AMI read to the last frame of a line event: tens of µs when all is well. */
const FANOUT_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

@Injectable()
export class GatewayMetrics implements GatewayObserver {
  private readonly sent: Counter.Internal[] = [];
  private readonly commands: Counter<'command' | 'result'>;
  private readonly commandChildren: ChildCache<Counter.Internal>;
  private readonly fanout: Histogram;
  private readonly dropped: Counter<'reason'>;

  constructor(
    metrics: MetricsService,
    private readonly ami: AmiMetrics,
    private readonly moduleRef: ModuleRef,
  ) {
    const sent = metrics.counter({
      name: 'messaging_host_events_sent_total',
      help: 'Event envelopes written to CTI client sockets, by event type (RING_STARTED, ...).',
      labelNames: ['event'],
    });
    for (const [name, value] of Object.entries(MsgEventType)) {
      if (typeof value === 'number') this.sent[value] = sent.labels(name);
    }
    this.commands = metrics.counter({
      name: 'messaging_host_client_commands_total',
      help: 'Commands of CTI clients, by command and result (ok, or the error code sent back).',
      labelNames: ['command', 'result'],
    });
    this.commandChildren = new ChildCache(
      (key) => {
        const [command, result] = key.split('\u0000') as [string, string];
        return this.commands.labels(command, result ?? 'other');
      },
      new LabelGuard(400, 'other\u0000other'),
    );
    this.fanout = metrics.histogram({
      name: 'messaging_host_fanout_latency_seconds',
      help: 'From reading an AMI packet to writing the last client frame of the line event it caused.',
      buckets: FANOUT_BUCKETS,
    });
    this.dropped = metrics.counter({
      name: 'messaging_host_clients_dropped_total',
      help: 'CTI clients the server disconnected: slow (send buffer over server.maxBufferedBytes) or silent (no heartbeat answer).',
      labelNames: ['reason'],
    });
    const clients: Gauge<'transport'> = metrics.gauge({
      name: 'messaging_host_clients',
      help: 'Connected CTI client sockets, by transport (websocket, signalr; pending: not yet known).',
      labelNames: ['transport'],
      collect: () => {
        const t = this.gateway()?.stats().transports;
        clients.set({ transport: 'websocket' }, t?.plain ?? 0);
        clients.set({ transport: 'signalr' }, t?.signalr ?? 0);
        clients.set({ transport: 'pending' }, (t?.detect ?? 0) + (t?.['signalr-handshake'] ?? 0));
      },
    });
    const lines: Gauge = metrics.gauge({
      name: 'messaging_host_lines_bound',
      help: 'Lines opened by at least one CTI client on this node.',
      collect: () => {
        lines.set(this.gateway()?.stats().lines.length ?? 0);
      },
    });
  }

  commandDone(command: string, result: string): void {
    this.commandChildren.get(`${command}\u0000${result}`).inc();
  }

  eventSent(eventType: MsgEventType): void {
    this.sent[eventType]?.inc();
  }

  lineEventFannedOut(): void {
    const s = this.ami.sinceRead();
    if (s !== undefined) this.fanout.observe(s);
  }

  clientDropped(reason: 'slow' | 'silent'): void {
    this.dropped.labels(reason).inc();
  }

  private gateway(): ClientGateway | undefined {
    try {
      return this.moduleRef.get(ClientGateway, { strict: false });
    } catch {
      return undefined; // an app without the gateway (tests of the API alone)
    }
  }
}
