// A real nginx for the cluster tests: docker/nginx.conf (the balancer we ship) rewritten for this
// machine (upstream servers = the test's nodes, listen on a free 127.0.0.1 port, every path in a
// temp folder), run in the foreground as `nginx -c <conf> -p <dir> -g 'daemon off; ...'`.
// Also the small nginx.conf parser test/deploy-cluster.spec.ts reads the shipped file with.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from './service-process';

/** One directive: `name args...;` or `name args... { block }`. */
export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
}

/** Parses nginx configuration text (comments, quotes, blocks); throws on unbalanced braces. */
export function parseNginxConf(text: string): NginxDirective[] {
  const tokens: string[] = [];
  const re = /#[^\n]*|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};'"#]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].startsWith('#')) continue;
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  }
  let i = 0;
  const block = (depth: number): NginxDirective[] => {
    const out: NginxDirective[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t === ';') {
        if (words.length) out.push({ name: words[0]!, args: words.slice(1) });
        words = [];
      } else if (t === '{') {
        const inner = block(depth + 1);
        out.push({ name: words[0] ?? '', args: words.slice(1), block: inner });
        words = [];
      } else if (t === '}') {
        if (depth === 0) throw new Error('nginx.conf: a "}" closes no block');
        return out;
      } else words.push(t);
    }
    if (depth > 0) throw new Error('nginx.conf: a block is not closed');
    if (words.length) throw new Error(`nginx.conf: "${words.join(' ')}" lacks its ";"`);
    return out;
  };
  return block(0);
}

function quote(a: string): string {
  if (a === '') return "''";
  return /^[^\s{};'"#$]*$/.test(a) || /^\$[A-Za-z_]+$/.test(a) ? a : `'${a.replace(/'/g, "\\'")}'`;
}

export function serializeNginxConf(ds: readonly NginxDirective[], indent = ''): string {
  let out = '';
  for (const d of ds) {
    const head = [d.name === '' ? "''" : d.name, ...d.args.map(quote)].join(' ');
    if (d.block) {
      out += `${indent}${head} {\n${serializeNginxConf(d.block, `${indent}  `)}${indent}}\n`;
    } else out += `${indent}${head};\n`;
  }
  return out;
}

/** Every directive named `name`, at any depth. */
export function findAll(ds: readonly NginxDirective[], name: string): NginxDirective[] {
  const out: NginxDirective[] = [];
  for (const d of ds) {
    if (d.name === name) out.push(d);
    if (d.block) out.push(...findAll(d.block, name));
  }
  return out;
}

export interface NginxProcess {
  readonly port: number;
  readonly url: string;
  /** The configuration nginx runs (for failure messages). */
  readonly conf: string;
  /** nginx's error log so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

const MISSING =
  'nginx is not installed: the cluster tests need a real nginx. Install it with ' +
  '`bash scripts/install-test-deps.sh` (Debian package nginx).';

/**
 * Starts nginx with docker/nginx.conf, its upstream servers replaced by `upstreams` (ports on
 * 127.0.0.1), listening on a free port. Resolves once the port accepts connections.
 */
export async function startNginx(
  upstreams: readonly number[],
  /**
   * workers: worker processes (default: one process, no master); more spread the sockets over
   * processes, each with its own open-files limit (bench:cluster's 10,000 clients).
   */
  opts: { workerConnections?: number; workers?: number } = {},
): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mh-nginx-'));
  const port = await freePort();
  const shipped = parseNginxConf(readFileSync(join(repoRoot(), 'docker', 'nginx.conf'), 'utf8'));
  const upstream = findAll(shipped, 'upstream')[0];
  if (!upstream?.block) throw new Error('docker/nginx.conf has no upstream block');
  const template = upstream.block.find((d) => d.name === 'server');
  upstream.block = [
    ...upstreams.map((p) => ({
      name: 'server',
      args: [`127.0.0.1:${p}`, ...(template?.args.slice(1) ?? [])],
    })),
    ...upstream.block.filter((d) => d.name !== 'server'),
  ];
  const workers = opts.workers ?? 0;
  for (const l of findAll(shipped, 'listen')) {
    l.args = [`127.0.0.1:${port}`, ...(workers > 1 ? ['reuseport'] : [])];
  }
  const http = shipped.find((d) => d.name === 'http');
  if (!http?.block) throw new Error('docker/nginx.conf has no http block');
  // Everything nginx writes goes to the temp folder; one process, as this user.
  http.block.unshift(
    { name: 'access_log', args: ['off'] },
    { name: 'error_log', args: [join(dir, 'error.log'), 'warn'] },
    { name: 'client_body_temp_path', args: [join(dir, 'client_body')] },
    { name: 'proxy_temp_path', args: [join(dir, 'proxy')] },
    { name: 'fastcgi_temp_path', args: [join(dir, 'fastcgi')] },
    { name: 'uwsgi_temp_path', args: [join(dir, 'uwsgi')] },
    { name: 'scgi_temp_path', args: [join(dir, 'scgi')] },
  );
  if (opts.workerConnections) {
    for (const w of findAll(shipped, 'worker_connections'))
      w.args = [String(opts.workerConnections)];
  }
  const top = shipped.filter((d) => d.name !== 'worker_processes' && d.name !== 'user');
  top.unshift(
    { name: 'pid', args: [join(dir, 'nginx.pid')] },
    { name: 'error_log', args: [join(dir, 'error.log'), 'warn'] },
  );
  if (workers > 1) {
    top.unshift({ name: 'worker_processes', args: [String(workers)] });
    // Workers as this user (root would hand them to nobody, who cannot use the temp folder).
    if (process.getuid?.() === 0) top.unshift({ name: 'user', args: ['root'] });
  }
  const conf = serializeNginxConf(top);
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child = await launch(confPath, dir, workers > 1);
  const errorLog = (): string => {
    const p = join(dir, 'error.log');
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  };
  await waitForPort(port, child, errorLog);
  return {
    port,
    url: `127.0.0.1:${port}`,
    conf,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((res) => {
          child.once('exit', () => res());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function launch(confPath: string, dir: string, master: boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'nginx',
      [
        '-e',
        join(dir, 'error.log'),
        '-p',
        dir,
        '-c',
        confPath,
        '-g',
        master ? 'daemon off;' : 'daemon off; master_process off;',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(MISSING) : err),
    );
    child.once('spawn', () => resolve(child));
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`nginx exited ${code}: ${out}\n`);
    });
  });
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  errorLog: () => string,
): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nginx exited (${child.exitCode}) before listening:\n${errorLog()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/live`);
      await res.arrayBuffer();
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > 10_000)
      throw new Error(`nginx did not listen on ${port}:\n${errorLog()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
