// One event stream reader: its HTTP response kept open, what it asked for (lines, RAW), and the
// bound on what may wait for it: past maxBufferedBytes unsent, the reader is cut off.
import type { ServerResponse } from 'node:http';

export interface SseClientOptions {
  /** The lines asked for (`?line=`); null: every line. */
  lines: ReadonlySet<string> | null;
  /** RAW_DATA of the lines asked for (`?raw=true`). */
  raw: boolean;
  /** More unsent bytes than this (server.maxBufferedBytes) and the reader is cut off. */
  maxBufferedBytes: number;
  /** For log lines: the API key's name and the peer address. */
  who: string;
  /** Called once when the stream ends: 'closed' (the reader left), 'slow', 'shutdown'. */
  onEnd(client: SseClient, why: 'closed' | 'slow' | 'shutdown'): void;
}

export class SseClient {
  private ended = false;
  /** The most bytes that ever waited for this reader (after a write), to check the bound. */
  peakBuffered = 0;
  readonly lines: ReadonlySet<string> | null;
  readonly raw: boolean;
  readonly who: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseClientOptions,
  ) {
    this.lines = options.lines;
    this.raw = options.raw;
    this.who = options.who;
    res.once('close', () => this.end('closed'));
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Whether this reader wants the events of `line`. */
  wants(line: string): boolean {
    return this.lines === null || this.lines.has(line);
  }

  /** Sends the headers (the stream is open for the reader from here). */
  start(): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx: pass events through at once instead of buffering them.
      'X-Accel-Buffering': 'no',
    });
    this.res.flushHeaders();
  }

  /** Writes one frame; a reader that lets too much wait is cut off (returns false then). */
  send(frame: string): boolean {
    if (this.ended) return false;
    this.res.write(frame);
    const waiting = this.res.writableLength;
    if (waiting > this.peakBuffered) this.peakBuffered = waiting;
    if (waiting > this.options.maxBufferedBytes) {
      this.end('slow');
      this.res.destroy();
      return false;
    }
    return true;
  }

  /** Ends the stream from the server's side (shutdown). */
  close(): void {
    if (this.ended) return;
    this.end('shutdown');
    this.res.end();
  }

  private end(why: 'closed' | 'slow' | 'shutdown'): void {
    if (this.ended) return;
    this.ended = true;
    this.options.onEnd(this, why);
  }
}
