import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** The repository root (tests run from dist/test/...). */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'apps'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

export function mainJs(): string {
  const p = join(repoRoot(), 'dist', 'apps', 'messaging-host', 'src', 'main.js');
  if (!existsSync(p)) throw new Error(`${p} is missing: run npm run build first`);
  return p;
}

/** A port nobody listens on right now (bound on 127.0.0.1:0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name) and how long the process lived after `since`. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  kill(): void;
}

/** Starts the built service as `npm start` would, with extra environment and arguments. */
export function startService(env: Record<string, string>, args: string[] = []): ServiceProcess {
  const child = spawn(process.execPath, [mainJs(), ...args], {
    cwd: repoRoot(),
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (res) => {
      child.once('exit', (code, signal) => res({ code, signal, at: Date.now() }));
    },
  );
  return {
    child,
    output: () => out,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    waitForOutput: (re, timeoutMs = 60000) =>
      new Promise<void>((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`no output matching ${re} within ${timeoutMs} ms; output:\n${out}`)),
          timeoutMs,
        );
        const check = (): void => {
          if (re.test(out)) {
            clearTimeout(timer);
            res();
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            rej(new Error(`the process exited (${child.exitCode}) before ${re}; output:\n${out}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
}

export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
