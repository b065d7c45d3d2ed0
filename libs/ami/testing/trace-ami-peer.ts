import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AmiDecoder, type AmiPacket, type AmiScenarioRecord } from '@app/ami';
import { readTrace } from './fixtures';

export interface TraceAmiPeerOptions {
  /**
   * Stop before a `meta` record matching this (e.g. `/core restart/`) until resume() is called:
   * lets a test wait for its client to be ready before the trace goes on.
   */
  pauseAt?: RegExp;
  /**
   * Connections accepted and reset before any banner between two recorded connections. Default:
   * the number of `reconnect attempt N failed` notes recorded between them (h_core_restart: 2).
   */
  resetsBetween?: number;
  /** After the last recorded connection, play it again for every new one (a0: the login keeps failing). */
  repeatLast?: boolean;
}

interface Step {
  rec: AmiScenarioRecord;
  /** For tx: the action the recording client wrote. */
  action?: AmiPacket;
}

/**
 * A peer on 127.0.0.1:0 that plays a recorded trace back to a client, connection by connection,
 * as Asterisk did: the `rx` bytes exactly as recorded (same reads), each group sent once the client
 * wrote the `tx` action before it (same Action name; the recorded ActionIDs in the answers are
 * rewritten to the client's), `EOF` notes close the socket, refused reconnects become accepted
 * sockets reset before the banner. Actions the recording client did not send (Filter, Ping) get a
 * plain `Response: Success`.
 */
export class TraceAmiPeer {
  /** Connections accepted, resets included. */
  accepted = 0;
  /** Every action received, in order, with the connection number it came on (1-based, resets not counted). */
  readonly actions: { conn: number; action: AmiPacket }[] = [];
  private readonly conns: Step[][];
  private readonly resets: number[];
  private readonly sockets = new Set<Socket>();
  private played = 0;
  private resetsDone = 0;
  private resumeWaiters: (() => void)[] = [];
  private resumed = 0;

  private constructor(
    private readonly server: Server,
    records: readonly AmiScenarioRecord[],
    private readonly options: TraceAmiPeerOptions,
  ) {
    const byConn = new Map<number, Step[]>();
    const failedNotes = new Map<number, number>();
    for (const rec of records) {
      let steps = byConn.get(rec.conn);
      if (!steps) byConn.set(rec.conn, (steps = []));
      if (rec.dir === 'tx') {
        steps.push({ rec, action: decodeOne(Buffer.from(rec.b64, 'base64')) });
      } else {
        steps.push({ rec });
        if (rec.dir === 'meta' && /reconnect attempt \d+ failed/i.test(rec.note ?? '')) {
          failedNotes.set(rec.conn, (failedNotes.get(rec.conn) ?? 0) + 1);
        }
      }
    }
    const order = [...byConn.keys()].sort((a, b) => a - b);
    this.conns = order.map((c) => byConn.get(c)!);
    this.resets = order.map((c) => options.resetsBetween ?? failedNotes.get(c) ?? 0);
  }

  static async start(
    trace: string | readonly AmiScenarioRecord[],
    options: TraceAmiPeerOptions = {},
  ): Promise<TraceAmiPeer> {
    const records = typeof trace === 'string' ? readTrace(trace) : trace;
    const server = createServer();
    const peer = new TraceAmiPeer(server, records, options);
    server.on('connection', (s: Socket) => peer.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return peer;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Lets a trace paused at `pauseAt` go on. */
  resume(): void {
    this.resumed += 1;
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.accepted += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.played > 0 && this.resetsDone < (this.resets[this.played - 1] ?? 0)) {
      this.resetsDone += 1;
      socket.resetAndDestroy();
      return;
    }
    let index = this.played;
    if (index >= this.conns.length) {
      if (!this.options.repeatLast) {
        socket.destroy();
        return;
      }
      index = this.conns.length - 1;
    }
    this.played += 1;
    this.resetsDone = 0;
    void this.play(socket, this.conns[index]!, this.played);
  }

  private async play(socket: Socket, steps: Step[], connNo: number): Promise<void> {
    const inbox: AmiPacket[] = [];
    let wake: (() => void) | undefined;
    const idMap = new Map<string, string>();
    let cursor = 0;
    /** The Action name of the next recorded tx step, or undefined when none is left. */
    const expected = (): string | undefined => {
      for (let i = cursor; i < steps.length; i++) {
        const a = steps[i]!.action;
        if (steps[i]!.rec.dir === 'tx') return (a?.get('Action') ?? '').toLowerCase();
      }
      return undefined;
    };
    const decoder = new AmiDecoder(
      {
        onPacket: (p) => {
          this.actions.push({ conn: connNo, action: p });
          if ((p.get('Action') ?? '').toLowerCase() === expected() && inbox.length === 0) {
            inbox.push(p);
            wake?.();
          } else {
            // Not in the recording (Filter, Ping ...): a plain answer, at once.
            socket.write(plainSuccess(p));
          }
        },
        onError: () => socket.destroy(),
      },
      { expectBanner: false },
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let resumedSeen = 0;
    for (; cursor < steps.length; cursor++) {
      if (socket.destroyed) return;
      const step = steps[cursor]!;
      const { rec } = step;
      if (rec.dir === 'rx') {
        socket.write(rewriteIds(Buffer.from(rec.b64, 'base64'), idMap));
      } else if (rec.dir === 'tx') {
        while (inbox.length === 0) {
          const got = await Promise.race([
            new Promise<boolean>((resolve) => (wake = () => resolve(true))),
            closed.then(() => false),
          ]);
          wake = undefined;
          if (!got) return;
        }
        const got = inbox.shift()!;
        const recorded = step.action?.actionId;
        if (recorded !== undefined && got.actionId !== undefined) idMap.set(recorded, got.actionId);
      } else if (/^EOF\b/.test(rec.note ?? '')) {
        socket.end();
      } else if (this.options.pauseAt?.test(rec.note ?? '')) {
        resumedSeen += 1;
        if (this.resumed < resumedSeen) {
          await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
        }
      }
    }
  }
}

function decodeOne(bytes: Buffer): AmiPacket | undefined {
  let out: AmiPacket | undefined;
  new AmiDecoder(
    { onPacket: (p) => (out ??= p), onError: () => undefined },
    { expectBanner: false },
  ).push(bytes);
  return out;
}

function plainSuccess(action: AmiPacket): string {
  const id = action.actionId;
  return `Response: Success\r\n${id !== undefined ? `ActionID: ${id}\r\n` : ''}\r\n`;
}

/** Rewrites `ActionID: <recorded>` lines to the client's ids, every other byte unchanged. */
function rewriteIds(bytes: Buffer, idMap: ReadonlyMap<string, string>): Buffer {
  if (idMap.size === 0) return bytes;
  const text = bytes.toString('latin1');
  const out = text.replace(/^(ActionID:[ \t]*)([^\r\n]*)/gim, (m, head: string, id: string) => {
    const mapped = idMap.get(id.trim());
    return mapped === undefined ? m : `${head}${mapped}`;
  });
  return out === text ? bytes : Buffer.from(out, 'latin1');
}
