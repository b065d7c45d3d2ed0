/**
 * The benchmark's AMI server, run as a child process (so it does not take the reader's CPU): on
 * 127.0.0.1, port 0. Per connection it behaves like Asterisk: the banner at once, then waits for
 * the Login action and answers it with the ActionID it was given; the answer shares its write with
 * the first events (as Asterisk's FullyBooted does), then the corpus follows in chunks of realistic
 * sizes cut at arbitrary bytes (mid-line, mid-CRLF, mid-UTF-8 character), the same cuts for every
 * reader; then the server closes the connection.
 *
 * argv: <events> <seed>. Tells the parent {port, bytes, events} over IPC.
 */
import { createServer, type Socket } from 'node:net';
import { corpusBytes, generateCorpus, prng } from './ami-bench-corpus';

export const BANNER = 'Asterisk Call Manager/9.0.0\r\n';

/** Chunk sizes: log-uniform 256 B .. 16 KiB, like Asterisk's writes coalesced by a busy kernel. */
export function chunkSizes(total: number, seed: number): number[] {
  const rnd = prng(seed ^ 0x5eed);
  const out: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(left, Math.floor(Math.exp(Math.log(256) + rnd() * Math.log(64))));
    out.push(size);
    left -= size;
  }
  return out;
}

/** The header value of `key` (any case) in an action's text, or undefined. */
function header(text: string, key: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === key)
      return line.slice(colon + 1).trim();
  }
  return undefined;
}

function serve(socket: Socket, bytes: Buffer, sizes: readonly number[]): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.write(BANNER);
  let input = '';
  let streaming = false;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    if (streaming) return;
    input += text;
    let end: number;
    while (!streaming && (end = input.indexOf('\r\n\r\n')) !== -1) {
      const action = input.slice(0, end);
      input = input.slice(end + 4);
      if ((header(action, 'action') ?? '').toLowerCase() !== 'login') continue;
      streaming = true;
      const id = header(action, 'actionid');
      const answer =
        'Response: Success\r\n' +
        (id !== undefined ? `ActionID: ${id}\r\n` : '') +
        'Message: Authentication accepted\r\n\r\n';
      stream(socket, Buffer.from(answer, 'utf8'), bytes, sizes);
    }
  });
}

function stream(socket: Socket, answer: Buffer, bytes: Buffer, sizes: readonly number[]): void {
  let i = 0;
  let off = 0;
  const first = sizes[0] ?? 0;
  socket.write(Buffer.concat([answer, bytes.subarray(0, first)]));
  off = first;
  i = 1;
  const pump = (): void => {
    while (i < sizes.length) {
      const size = sizes[i]!;
      const chunk = bytes.subarray(off, off + size);
      off += size;
      i += 1;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

function main(): void {
  const count = Number(process.argv[2]);
  const seed = Number(process.argv[3]);
  if (!(count > 0) || !Number.isInteger(seed) || typeof process.send !== 'function') {
    throw new Error('ami-bench-server: run by ami.bench with <events> <seed> over IPC');
  }
  const bytes = corpusBytes(generateCorpus(count, seed));
  const sizes = chunkSizes(bytes.length, seed);
  const server = createServer((socket) => serve(socket, bytes, sizes));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.send!({ port, bytes: bytes.length, events: count });
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) main();
