import { connect, type Socket } from 'node:net';

/** What a raw HTTP exchange gave: the status line's code, headers, body, and whether it closed. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after the answer. */
  closed: boolean;
  /** Body bytes the client managed to write before the answer came. */
  written: number;
}

/**
 * Sends a request head and then `body` in chunks over a plain socket (no client library limits
 * or retries), stopping when the server answers; resolves with the answer once the server closed
 * the connection or `settleMs` passed after the answer.
 */
export function rawRequest(
  port: number,
  head: string,
  body: Buffer = Buffer.alloc(0),
  opts: { chunk?: number; settleMs?: number } = {},
): Promise<RawAnswer> {
  const chunk = opts.chunk ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let answered = false;
    let written = 0;
    let settle: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (settle) clearTimeout(settle);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      socket.destroy();
      resolve({
        status: Number(lines[0]?.split(' ')[1]),
        headers,
        body: Buffer.from(text.slice(end + 4), 'latin1').toString('utf8'),
        closed,
        written,
      });
    };
    socket.on('error', (err) => {
      if (answered) finish(true);
      else reject(err);
    });
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (!answered && received.includes('\r\n\r\n')) {
        answered = true;
        settle = setTimeout(() => finish(false), opts.settleMs ?? 500);
      }
    });
    socket.on('close', () => {
      if (answered) finish(true);
      else reject(new Error('closed without an answer'));
    });
    socket.on('connect', () => {
      socket.write(head);
      const pump = (): void => {
        while (!answered && written < body.length) {
          const part = body.subarray(written, written + chunk);
          written += part.length;
          if (!socket.write(part)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

export function head(
  method: string,
  path: string,
  headers: Record<string, string | number>,
): string {
  let h = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  return `${h}\r\n`;
}
