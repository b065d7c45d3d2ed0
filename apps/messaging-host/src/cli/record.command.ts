import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import {
  AmiClient,
  exponentialBackoff,
  formatScenarioRecord,
  redactSecrets,
  type AmiClientOptions,
  type AmiStatus,
  type AmiWireRecord,
} from '@app/ami';
import type { AppConfig, AsteriskConfig } from '../config/app-config';
import { ConfigError } from '../config/config.errors';
import { loadConfig } from '../config/config.loader';
import { createRootLogger, PinoNestLogger } from '../logging/pino-logger';

/** sysexits(3) codes the command ends with. */
export enum RecordExitCode {
  Ok = 0,
  Failed = 1,
  /** Bad arguments. */
  Usage = 64,
  /** The output file cannot be created (exists without --force, no such directory ...). */
  CantCreate = 73,
  /** The configuration is unusable for recording. */
  Config = 78,
}

export const RECORD_USAGE = `Usage: npm run record -- --out FILE [--force] [--config PATH]

Connects to Asterisk with the service's configuration (the file, MESSAGING_HOST_CONFIG, --config,
and ASTERISK__* variables, as for the service), logs in and writes every byte of the AMI traffic
to FILE in the scenario format (docs/scenario-format.md), the secret removed, until Ctrl-C
(SIGINT) or SIGTERM; then logs off and closes FILE. Replay it with asterisk.filePath.

  --out FILE     where to write (refused if it exists, unless --force)
  --force        overwrite FILE
  --config PATH  the configuration file (default config/appsettings.json)
`;

export class RecordUsageError extends Error {
  override name = 'RecordUsageError';
}

export interface RecordArgs {
  out: string;
  force: boolean;
  help: boolean;
}

/** Reads the command's own arguments; `--config` is left to loadConfig. */
export function parseRecordArgs(argv: readonly string[]): RecordArgs {
  let out: string | undefined;
  let force = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' || a === '-o') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--'))
        throw new RecordUsageError(`${a} needs a file name`);
      out = v;
      i++;
    } else if (a.startsWith('--out=')) {
      out = a.slice('--out='.length);
      if (!out) throw new RecordUsageError('--out needs a file name');
    } else if (a === '--force') {
      force = true;
    } else if (a === '--help' || a === '-h') {
      help = true;
    } else if (a === '--config') {
      if (argv[i + 1] === undefined) throw new RecordUsageError('--config needs a path');
      i++;
    } else if (a.startsWith('--config=')) {
      // loadConfig reads it.
    } else {
      throw new RecordUsageError(`unknown argument ${JSON.stringify(a.slice(0, 40))}`);
    }
  }
  if (!help && out === undefined) throw new RecordUsageError('--out FILE is required');
  return { out: out ?? '', force, help };
}

/** The AMI client options of the service's `asterisk` configuration block. */
export function amiClientOptionsFromConfig(a: AsteriskConfig): AmiClientOptions {
  return {
    host: a.url,
    port: a.port,
    username: a.userName,
    secret: a.secret,
    tls: a.tls ? { rejectUnauthorized: a.tlsRejectUnauthorized } : undefined,
    authType: a.authType,
    connectTimeoutMs: a.connectTimeoutMs,
    actionTimeoutMs: a.actionTimeoutMs,
    pingIntervalMs: a.pingIntervalMs,
    pingTimeoutMs: a.pingTimeoutMs,
    maxPacketBytes: a.maxPacketBytes,
    reconnectStrategy: exponentialBackoff({
      minMs: a.reconnectMinDelayMs,
      maxMs: Math.max(a.reconnectMinDelayMs, a.reconnectMaxDelayMs),
    }),
  };
}

/** Epoch seconds with microseconds, never going back (a monotonic clock from the process start). */
function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** `2026-11-25T04:47:24.790513Z` (as the fixtures write `ts`) of a count of microseconds. */
function isoMicros(us: number): string {
  const micros = String(us % 1000).padStart(3, '0');
  return new Date(Math.floor(us / 1000)).toISOString().replace('Z', `${micros}Z`);
}

/**
 * Appends wire records to a scenario file, one JSON line each, written at once (a crash loses
 * nothing already seen). `tx` bytes pass through redactSecrets first. Connection numbers are
 * renumbered 1, 2, ... in the order they first appear.
 */
export class ScenarioFileWriter {
  private seq = 0;
  private readonly conns = new Map<number, number>();
  private lastConn = 1;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly clock: () => number = nowSeconds,
  ) {}

  /** Records written so far. */
  get count(): number {
    return this.seq;
  }

  /** A `#` comment line (ignored by the parser). */
  comment(text: string): void {
    this.line(`# ${text.replace(/[\r\n]+/g, ' ')}`);
  }

  write(record: AmiWireRecord): void {
    if (this.closed) return;
    const conn = this.connOf(record.conn);
    const bytes = record.dir === 'tx' ? redactSecrets(record.bytes) : record.bytes;
    const us = Math.round(this.clock() * 1e6);
    this.seq += 1;
    this.line(
      formatScenarioRecord({
        seq: this.seq,
        conn,
        dir: record.dir,
        t: us / 1e6,
        ts: isoMicros(us),
        len: bytes.length,
        b64: bytes.toString('base64'),
        text: bytes.toString('utf8'),
        note: record.note,
      }),
    );
  }

  /** A meta record with a note, on the last connection seen. */
  meta(note: string): void {
    this.write({ dir: 'meta', bytes: Buffer.alloc(0), note, conn: undefined });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private connOf(conn: number | undefined): number {
    if (conn === undefined) return this.lastConn;
    let n = this.conns.get(conn);
    if (n === undefined) {
      n = this.conns.size + 1;
      this.conns.set(conn, n);
    }
    this.lastConn = n;
    return n;
  }

  private line(text: string): void {
    writeSync(this.fd, text + '\n');
  }
}

export interface RecordEnvironment {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Where messages to the person at the terminal go (usage, errors) and the JSON log lines. */
  stderr: NodeJS.WritableStream;
  /** SIGINT and SIGTERM are awaited here (the process, or an emitter in tests). */
  signals: Pick<NodeJS.EventEmitter, 'once' | 'removeListener'>;
}

/**
 * The record command: loads the configuration as the service does, connects with AmiClient (its
 * tap sees every chunk), writes the scenario file until SIGINT/SIGTERM, then logs off and closes
 * the file. Resolves with the exit code.
 */
export async function runRecord(envx: RecordEnvironment): Promise<RecordExitCode> {
  const say = (text: string) => envx.stderr.write(`record: ${text}\n`);
  let args: RecordArgs;
  try {
    args = parseRecordArgs(envx.argv);
  } catch (err) {
    if (!(err instanceof RecordUsageError)) throw err;
    say(err.message);
    envx.stderr.write(RECORD_USAGE);
    return RecordExitCode.Usage;
  }
  if (args.help) {
    envx.stderr.write(RECORD_USAGE);
    return RecordExitCode.Ok;
  }

  let config: AppConfig;
  try {
    config = loadConfig({ argv: envx.argv, env: envx.env, cwd: envx.cwd }).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(err.message);
    return RecordExitCode.Config;
  }
  if (config.asterisk.filePath) {
    say(
      'asterisk.filePath is set (replay mode): recording needs a live Asterisk; unset it (e.g. ASTERISK__FILEPATH=)',
    );
    return RecordExitCode.Config;
  }

  const out = resolve(envx.cwd, args.out);
  let fd: number;
  try {
    fd = openSync(out, args.force ? 'w' : 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    say(
      code === 'EEXIST'
        ? `${out} exists; pass --force to overwrite it`
        : `cannot create ${out}: ${code ?? (err as Error).message}`,
    );
    return RecordExitCode.CantCreate;
  }

  const root = createRootLogger(config.logging, envx.stderr);
  const loggers = new PinoNestLogger(root, config.logging);
  const log: Logger = loggers.forCategory('Recorder');
  const writer = new ScenarioFileWriter(fd);
  const options = amiClientOptionsFromConfig(config.asterisk);
  writer.comment(
    `messaging-host record: AMI traffic of ${options.host}:${options.port} from ${new Date().toISOString()}; secrets removed`,
  );
  const client = new AmiClient({
    ...options,
    logger: loggers.forCategory('AmiClient'),
    tap: (record) => writer.write(record),
  });

  let lastState: AmiStatus['state'] | undefined;
  const sub = client.status$.subscribe((st) => {
    if (st.state === lastState) return;
    lastState = st.state;
    if (st.state === 'ready') {
      log.info(
        { file: out, address: client.address, serverVersion: st.serverVersion },
        `recording AMI traffic of ${client.address} to ${out}; Ctrl-C (SIGINT) or SIGTERM stops`,
      );
    }
  });

  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    const on = (s: NodeJS.Signals) => () => {
      envx.signals.removeListener('SIGINT', onInt);
      envx.signals.removeListener('SIGTERM', onTerm);
      resolveSignal(s);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    envx.signals.once('SIGINT', onInt);
    envx.signals.once('SIGTERM', onTerm);
    client.start();
  });

  log.info({ signal }, 'stopping: logging off');
  try {
    await client.close();
  } catch (err) {
    log.warn({ err }, 'logoff failed; closing the file anyway');
  }
  sub.unsubscribe();
  writer.meta(`recording stopped (${signal})`);
  const records = writer.count;
  writer.close();
  log.info({ file: out, records }, `wrote ${records} records to ${out}`);
  await new Promise<void>((done) => root.flush(() => done()));
  return RecordExitCode.Ok;
}
