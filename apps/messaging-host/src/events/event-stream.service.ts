// GET /api/v1/events: every reader's stream. Events come from the line sessions of the lines asked
// for, or from the library's all-lines stream (or, for a library without one, from the lines it
// shows calls on, found as they appear); each is serialised once and written to every reader in
// order. A reader whose unsent data passes server.maxBufferedBytes is cut off.
import type { ServerResponse } from 'node:http';
import {
  Injectable,
  Logger,
  Optional,
  ServiceUnavailableException,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import {
  MessagingRegistry,
  MsgEventType,
  type LineEvent,
  type MessagingLibrary,
} from '@app/messaging';
import type { Counter, Gauge } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { AmiMetrics, type AmiView } from '../metrics/ami-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { nodeId } from '../metrics/node-id';
import { SSE_KEEPALIVE, lineEventFrame, lineView, sseFrame } from './event-frames';
import { LineWatches } from './line-watches';
import { SseClient } from './sse-client';

/** How often a library without an all-lines stream is asked which lines have calls, ms. */
export const DISCOVERY_INTERVAL_MS = 500;

export interface StreamRequest {
  /** The lines asked for; null: every line. */
  lines: string[] | null;
  raw: boolean;
  caller: { name: string; scopes: ReadonlySet<string> };
  peer: string;
}

@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStream');
  private readonly clients = new Set<SseClient>();
  private readonly watches = new LineWatches((e) => this.fromLine(e), this.logger);
  readonly node: string;
  private seq = 0;
  private allReaders = 0;
  private allSubscription: Subscription | undefined;
  /** Lines watched for the all-lines readers of a library without an all-lines stream. */
  private readonly discovered = new Set<string>();
  private discovery: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private statusSubscription: Subscription | undefined;
  private amiUnsubscribe: (() => void) | undefined;
  private readonly pendingLines = new Set<string>();
  private flushScheduled = false;
  private stopping = false;
  private readonly cut: Counter<'reason'> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: MessagingRegistry,
    @Optional() metrics?: MetricsService,
    @Optional() private readonly ami?: AmiMetrics,
  ) {
    this.node = nodeId(config);
    const open: Gauge | undefined = metrics?.gauge({
      name: 'messaging_host_event_streams',
      help: 'Event streams (GET /api/v1/events) open on this node.',
      collect: () => {
        open?.set(this.clients.size);
      },
    });
    void open;
    this.cut = metrics?.counter({
      name: 'messaging_host_event_streams_ended_total',
      help: 'Event streams ended: closed (by the reader), slow (cut off: unsent data over server.maxBufferedBytes), shutdown.',
      labelNames: ['reason'],
    });
  }

  /** Readers now (diagnostics, tests). */
  readers(): SseClient[] {
    return [...this.clients];
  }

  /** Opens a stream on `res`: the headers, `hello` with the lines' state, then the events. */
  open(res: ServerResponse, req: StreamRequest): void {
    if (this.stopping) {
      throw new ServiceUnavailableException({
        message: 'the service is shutting down',
        code: 'SHUTTING_DOWN',
      });
    }
    if (this.clients.size >= this.config.events.maxClients) {
      throw new ServiceUnavailableException({
        message: `too many event streams open on this node (events.maxClients ${this.config.events.maxClients})`,
        code: 'TOO_MANY_STREAMS',
      });
    }
    const library = this.registry.active();
    const lines = req.lines ? new Set(req.lines) : null;
    // Watch first (a bad line throws before anything is sent), then say hello, then stream.
    const acquired: string[] = [];
    try {
      for (const line of lines ?? []) {
        this.watches.acquire(library, line, req.raw);
        acquired.push(line);
      }
    } catch (err) {
      for (const line of acquired) this.watches.release(line, req.raw);
      throw err;
    }
    const client = new SseClient(res, {
      lines,
      raw: req.raw,
      maxBufferedBytes: this.config.server.maxBufferedBytes,
      who: `'${req.caller.name}' (${req.peer})`,
      onEnd: (c, why) => this.ended(c, why),
    });
    this.clients.add(client);
    if (!lines) this.addAllReader(library);
    this.startTimers();
    client.start();
    client.send(sseFrame('hello', this.hello(library, lines, req)));
    this.logger.log(
      `event stream opened by ${client.who}: ${lines ? `lines ${[...lines].join(', ')}` : 'every line'}${req.raw ? ' with RAW' : ''}`,
    );
  }

  /** Ends every stream (shutdown): readers reconnect elsewhere. */
  drain(): void {
    this.stopping = true;
    for (const c of [...this.clients]) c.close();
  }

  beforeApplicationShutdown(): void {
    this.drain();
    this.stopTimers();
    this.watches.closeAll();
  }

  private hello(library: MessagingLibrary, lines: ReadonlySet<string> | null, req: StreamRequest) {
    const readiness = library.readiness();
    const shown = lines
      ? [...lines]
      : [
          ...new Set([...this.config.console.lines, ...library.busyLines(), ...this.discovered]),
        ].sort();
    return {
      node: this.node,
      library: this.registry.activeName(),
      ready: readiness.ready,
      ...(readiness.reason ? { reason: readiness.reason } : {}),
      ...(this.ami ? { ami: this.ami.current() } : {}),
      capabilities: library.capabilities(),
      allLines: lines ? null : library.watchAllLines() ? 'stream' : 'discovered',
      key: { name: req.caller.name, scopes: [...req.caller.scopes].sort() },
      lines: shown.map((l) => lineView(library.lineStatus(l))),
    };
  }

  private addAllReader(library: MessagingLibrary): void {
    this.allReaders += 1;
    if (this.allReaders > 1) return;
    const all = library.watchAllLines();
    if (all) {
      this.allSubscription = all.subscribe((e) => this.fromAll(e));
      return;
    }
    for (const line of this.config.console.lines) this.discover(library, line);
    this.discoverBusy();
    this.discovery = setInterval(() => this.discoverBusy(), DISCOVERY_INTERVAL_MS);
    this.discovery.unref();
  }

  private removeAllReader(): void {
    this.allReaders -= 1;
    if (this.allReaders > 0) return;
    this.allSubscription?.unsubscribe();
    this.allSubscription = undefined;
    if (this.discovery) clearInterval(this.discovery);
    this.discovery = undefined;
    for (const line of this.discovered) this.watches.release(line, false);
    this.discovered.clear();
  }

  /** Lines with calls that are not watched yet: watch them from now on, and show their state. */
  private discoverBusy(): void {
    let library: MessagingLibrary;
    try {
      library = this.registry.active();
    } catch {
      return;
    }
    for (const line of library.busyLines()) {
      if (!this.discovered.has(line)) this.discover(library, line);
    }
  }

  private discover(library: MessagingLibrary, line: string): void {
    try {
      this.watches.acquire(library, line, false);
    } catch (err) {
      this.logger.debug(`line ${line} cannot be watched: ${String(err)}`);
      return;
    }
    this.discovered.add(line);
    this.lineChanged(line);
  }

  /** An event of a watched line: to its readers, and to the all-lines readers of a discovery. */
  private fromLine(e: LineEvent): void {
    const raw = e.type === MsgEventType.RAW_DATA;
    const toAll = !raw && this.discovered.has(e.line);
    const frame = lineEventFrame(e, ++this.seq);
    for (const c of this.clients) {
      if (c.lines ? c.lines.has(e.line) && (!raw || c.raw) : toAll) c.send(frame);
    }
    if (!raw) this.lineChanged(e.line);
  }

  /** An event of the library's all-lines stream: to the all-lines readers. */
  private fromAll(e: LineEvent): void {
    if (e.type === MsgEventType.RAW_DATA) return;
    const frame = lineEventFrame(e, ++this.seq);
    for (const c of this.clients) if (c.lines === null) c.send(frame);
    this.lineChanged(e.line);
  }

  /** The line's state goes out once the events of this turn are out (one `line` frame per line). */
  private lineChanged(line: string): void {
    this.pendingLines.add(line);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushLines());
  }

  private flushLines(): void {
    this.flushScheduled = false;
    const lines = [...this.pendingLines];
    this.pendingLines.clear();
    if (this.clients.size === 0) return;
    let library: MessagingLibrary;
    try {
      library = this.registry.active();
    } catch {
      return;
    }
    for (const line of lines) {
      const frame = sseFrame('line', { seq: ++this.seq, ...lineView(library.lineStatus(line)) });
      for (const c of this.clients) if (c.wants(line)) c.send(frame);
    }
  }

  private status(ami?: AmiView): void {
    let library: MessagingLibrary;
    try {
      library = this.registry.active();
    } catch {
      return;
    }
    const r = library.readiness();
    const frame = sseFrame('status', {
      ready: r.ready,
      ...(r.reason ? { reason: r.reason } : {}),
      ...((ami ?? this.ami?.current()) ? { ami: ami ?? this.ami?.current() } : {}),
    });
    for (const c of this.clients) c.send(frame);
  }

  private startTimers(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.send(SSE_KEEPALIVE);
    }, this.config.server.heartbeatIntervalMs);
    this.heartbeat.unref();
    let first = true;
    this.statusSubscription = this.registry.active().readiness$.subscribe(() => {
      if (first) first = false;
      else this.status();
    });
    this.amiUnsubscribe = this.ami?.onChange((v) => this.status(v));
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.statusSubscription?.unsubscribe();
    this.statusSubscription = undefined;
    this.amiUnsubscribe?.();
    this.amiUnsubscribe = undefined;
  }

  private ended(c: SseClient, why: 'closed' | 'slow' | 'shutdown'): void {
    if (!this.clients.delete(c)) return;
    this.cut?.labels(why).inc();
    for (const line of c.lines ?? []) this.watches.release(line, c.raw);
    if (c.lines === null) this.removeAllReader();
    if (this.clients.size === 0) this.stopTimers();
    if (why === 'slow') {
      this.logger.warn(
        `event stream of ${c.who} cut off: it does not read (more than server.maxBufferedBytes ${this.config.server.maxBufferedBytes} bytes waiting)`,
      );
    } else {
      this.logger.log(`event stream of ${c.who} ended (${why})`);
    }
  }
}
