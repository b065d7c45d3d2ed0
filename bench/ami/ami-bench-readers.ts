import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { AmiDecoder, encodeAction } from '@app/ami';
import type { EventChecker } from './ami-bench-check';

/** What a reader needs: where the server is, and the checker its consumer feeds. */
export interface ReaderContext {
  port: number;
  checker: EventChecker;
  /** Called once when the stream is over (all events seen, or the connection closed). */
  done(error?: string): void;
}

export type Reader = (ctx: ReaderContext) => void;

const USER = 'bench';
const SECRET = 'bench';
const HOST = '127.0.0.1';

const load = createRequire(__filename);

/** Ours: the push decoder over a plain socket. */
const ours: Reader = ({ port, checker, done }) => {
  const socket = connect(port, HOST);
  const decoder = new AmiDecoder({
    onBanner: () => {
      socket.write(
        encodeAction({ Action: 'Login', ActionID: 'login-1', Username: USER, Secret: SECRET }),
      );
    },
    onPacket: (p) => {
      if (p.event === undefined) return;
      checker.checkArrays(p.keys, p.values);
      if (checker.done) done();
    },
    onError: (e) => done(`decoder: ${e.message}`),
  });
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  socket.on('error', (e) => done(`socket: ${e.message}`));
  socket.on('close', () => done());
};

/** The baseline: counts packet ends (empty lines) on the raw bytes, decodes nothing. */
const raw: Reader = ({ port, checker, done }) => {
  const socket = connect(port, HOST);
  let bannerSeen = false;
  let ends = 0;
  let tail: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (!bannerSeen) {
      bannerSeen = true;
      socket.write(
        'Action: Login\r\nActionID: login-1\r\nUsername: bench\r\nSecret: bench\r\n\r\n',
      );
    }
    // A terminator cut between two reads: look at the last 3 bytes before and the first 3 after.
    if (tail.length > 0) {
      const seam = Buffer.concat([tail, chunk.subarray(0, 3)]);
      let at = seam.indexOf('\r\n\r\n');
      while (at !== -1 && at < tail.length) {
        if (at + 4 > tail.length) ends += 1;
        at = seam.indexOf('\r\n\r\n', at + 1);
      }
    }
    let i = chunk.indexOf('\r\n\r\n');
    while (i !== -1) {
      ends += 1;
      i = chunk.indexOf('\r\n\r\n', i + 4);
    }
    tail = chunk.length >= 3 ? chunk.subarray(chunk.length - 3) : Buffer.from(chunk);
  });
  socket.on('error', (e) => done(`socket: ${e.message}`));
  socket.on('close', () => {
    // The Login answer is one packet; the rest are events. Nothing is decoded, so nothing is checked.
    checker.countUnchecked(Math.max(0, ends - 1));
    done();
  });
};

interface Emitter {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

const asteriskIo: Reader = ({ port, checker, done }) => {
  const aio = load('asterisk.io') as { ami(h: string, p: number, u: string, s: string): Emitter };
  const ami = aio.ami(HOST, port, USER, SECRET);
  ami.on('eventAny', (e) => {
    checker.checkObject(e as Record<string, unknown>);
    if (checker.done) done();
  });
  // asterisk.io reports the end of the connection as an error.
  ami.on('error', () => done());
};

const yana: Reader = ({ port, checker, done }) => {
  const Ami = load('yana') as new (o: Record<string, unknown>) => Emitter & { connect(): void };
  const ami = new Ami({
    host: HOST,
    port,
    login: USER,
    password: SECRET,
    events: 'on',
    reconnect: false,
  });
  ami.on('event', (e) => {
    checker.checkObject(e as Record<string, unknown>);
    if (checker.done) done();
  });
  ami.on('error', () => done());
  ami.connect();
};

const asteriskManager: Reader = ({ port, checker, done }) => {
  const Manager = load('asterisk-manager') as (
    port: number,
    host: string,
    user: string,
    secret: string,
    events: boolean,
  ) => Emitter;
  const ami = Manager(port, HOST, USER, SECRET, true);
  ami.on('managerevent', (e) => {
    checker.checkObject(e as Record<string, unknown>);
    if (checker.done) done();
  });
  // Its events are emitted on process.nextTick: let them drain before calling the stream over.
  ami.on('close', () => setImmediate(() => done()));
};

const asteriskAmiClient: Reader = ({ port, checker, done }) => {
  const AmiClient = load('asterisk-ami-client') as new (o: Record<string, unknown>) => Emitter & {
    connect(u: string, s: string, o: Record<string, unknown>): Promise<unknown>;
  };
  const client = new AmiClient({ reconnect: false, keepAlive: false, emitEventsByTypes: false });
  client.on('event', (e) => {
    checker.checkObject(e as Record<string, unknown>);
    if (checker.done) done();
  });
  client.on('disconnect', () => done());
  client
    .connect(USER, SECRET, { host: HOST, port })
    .catch((e: unknown) => done(`connect: ${String(e)}`));
};

export const READERS: Readonly<Record<string, Reader>> = {
  ours,
  raw,
  'asterisk.io': asteriskIo,
  yana,
  'asterisk-manager': asteriskManager,
  'asterisk-ami-client': asteriskAmiClient,
};

/** The npm peers (the others are ours and the baseline). */
export const PEERS = ['asterisk.io', 'yana', 'asterisk-manager', 'asterisk-ami-client'] as const;
