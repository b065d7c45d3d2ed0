// An event stream reader for tests: fetch() with the API key, the SSE text cut into frames as
// the WHATWG EventSource parser does (event, data, id; comments skipped), each data parsed as JSON.

export interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  /** Comment lines seen (keep-alives). */
  comments = 0;
  closed = false;
  private waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  private readonly abort = new AbortController();

  status = 0;
  contentType = '';
  /** The JSON body of a refusal (non-200). */
  error: Record<string, unknown> | undefined;

  /** Opens `url`; resolves once the headers arrived (a refusal's body is in `error`). */
  static async open(url: string, key: string): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' },
      signal: r.abort.signal,
    });
    r.status = res.status;
    r.contentType = res.headers.get('content-type') ?? '';
    if (res.status !== 200) {
      r.error = (await res.json()) as Record<string, unknown>;
      r.closed = true;
      return r;
    }
    void r.pump(res.body!);
    return r;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          this.frame(block);
        }
      }
    } catch {
      // aborted by close(), or cut by the server
    } finally {
      this.closed = true;
    }
  }

  private frame(block: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments += 1;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length === 0) return;
    const e: SseEvent = {
      event,
      ...(id !== undefined ? { id } : {}),
      data: JSON.parse(data.join('\n')) as Record<string, unknown>,
    };
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  /** The first event (seen or coming) that matches. */
  waitFor(pred: (e: SseEvent) => boolean, what: string, timeoutMs = 5000): Promise<SseEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms; got: ${this.events.map((e) => e.event).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const done = (e: SseEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** The `call` events (name of the event type and the call's state), in order. */
  calls(line?: string): { event: string; state: number; seq: number }[] {
    return this.events
      .filter((e) => e.event === 'call' && (line === undefined || e.data['line'] === line))
      .map((e) => ({
        event: e.data['event'] as string,
        state: (e.data['call'] as { state: number }).state,
        seq: e.data['seq'] as number,
      }));
  }

  close(): void {
    this.abort.abort();
  }
}
