/**
 * Looks into the service process through its inspector (the service runs with
 * `--inspect=127.0.0.1:0`): forces a full GC, reads heap, RSS, handles and the event-loop delay
 * (a monitorEventLoopDelay histogram installed in the process), and writes heap snapshots.
 */
import { createWriteStream } from 'node:fs';
import { WebSocket } from 'ws';

export interface ProbeSample {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  handles: number;
  resources: number;
  /** Event-loop delay since the previous sample, ms. */
  eldP99: number;
  eldMax: number;
  /** Event-loop delay since start, ms. */
  eldP99All: number;
}

export class InspectorProbe {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private chunkSink: ((chunk: string) => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const msg = JSON.parse((d as Buffer).toString('utf8')) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: { chunk?: string };
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method === 'HeapProfiler.addHeapSnapshotChunk' && msg.params?.chunk) {
        this.chunkSink?.(msg.params.chunk);
      }
    });
  }

  /** Connects to `ws://127.0.0.1:PORT/UUID` (from the process's "Debugger listening on" line). */
  static async connect(url: string): Promise<InspectorProbe> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const probe = new InspectorProbe(ws);
    await probe.evaluate(`(() => {
      const { monitorEventLoopDelay } = require('perf_hooks');
      globalThis.__soakEld = monitorEventLoopDelay({ resolution: 10 });
      globalThis.__soakEldAll = monitorEventLoopDelay({ resolution: 10 });
      globalThis.__soakEld.enable();
      globalThis.__soakEldAll.enable();
      return true;
    })()`);
    return probe;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async evaluate(expression: string): Promise<unknown> {
    const r = (await this.call('Runtime.evaluate', {
      expression,
      includeCommandLineAPI: true,
      returnByValue: true,
    })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      throw new Error(
        `inspector: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
      );
    }
    return r.result.value;
  }

  /**
   * The event-loop delay since the previous sample (and over the run), then a full
   * GC and the memory numbers; both histograms are off during the forced GC, whose pause is not the service's.
   */
  async sample(): Promise<ProbeSample> {
    const eld = JSON.parse(
      (await this.evaluate(`(() => {
        const h = globalThis.__soakEld, a = globalThis.__soakEldAll;
        h.disable();
        a.disable();
        return JSON.stringify({
          eldP99: h.percentile(99) / 1e6, eldMax: h.max / 1e6, eldP99All: a.percentile(99) / 1e6,
        });
      })()`)) as string,
    ) as Pick<ProbeSample, 'eldP99' | 'eldMax' | 'eldP99All'>;
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const json = (await this.evaluate(`(() => {
      const m = process.memoryUsage();
      globalThis.__soakEld.reset();
      globalThis.__soakEld.enable();
      globalThis.__soakEldAll.enable();
      return JSON.stringify({
        heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external,
        arrayBuffers: m.arrayBuffers,
        handles: process._getActiveHandles().length,
        resources: process.getActiveResourcesInfo().length,
      });
    })()`)) as string;
    return { ...(JSON.parse(json) as Omit<ProbeSample, keyof typeof eld>), ...eld };
  }

  /** Writes a heap snapshot (after a GC) to `file`. */
  async snapshot(file: string): Promise<void> {
    await this.call('HeapProfiler.enable');
    await this.call('HeapProfiler.collectGarbage');
    const out = createWriteStream(file);
    this.chunkSink = (c) => out.write(c);
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.chunkSink = undefined;
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
  }

  close(): void {
    this.ws.close();
  }
}
