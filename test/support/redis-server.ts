import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './service-process';

/** A real redis-server on 127.0.0.1 and a free port, without persistence, owned by the test. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  restart(): Promise<void>;
}

const MISSING =
  'redis-server is not installed: these tests need a real Redis. Install it with ' +
  '`bash scripts/install-test-deps.sh` (Debian package redis-server).';

function launch(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (/Ready to accept connections/i.test(out)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(MISSING) : err),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)),
    );
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((res) => {
        c.once('exit', () => res());
        c.kill('SIGTERM');
      });
    },
    async restart() {
      if (child) throw new Error('redis-server is still running');
      child = await launch(port);
    },
  };
}
