import pino, {
  type DestinationStream,
  type Logger,
  type LevelWithSilent,
  type StreamEntry,
} from 'pino';
import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import type { LoggingConfig, LogLevel } from '../config/app-config';

/** Keys whose values are secrets wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'secret',
  '*.secret',
  'Secret',
  '*.Secret',
  'key',
  '*.key',
  'Key',
  '*.Key',
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'tokenSecret',
  '*.tokenSecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

const ORDER: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/**
 * The root logger: JSON lines to stdout, and to `file` (the rolling log files of logging.toFile,
 * opened by log-files.ts) when given. Its own level is the most verbose of the global and
 * per-category levels, so that a category may log below the global level; each category's child
 * carries its own level.
 */
export function createRootLogger(
  config: LoggingConfig,
  stdout: NodeJS.WritableStream = process.stdout,
  file?: DestinationStream,
): Logger {
  const levels = [config.level, ...Object.values(config.levels)];
  const rootLevel = levels.reduce((a, b) => (ORDER[b] < ORDER[a] ? b : a), config.level);
  const streams: StreamEntry[] = [{ level: 'trace', stream: stdout }];
  if (file) streams.push({ level: 'trace', stream: file });
  return pino(
    {
      level: rootLevel as LevelWithSilent,
      base: { app: 'messaging-host', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.multistream(streams),
  );
}

/** Nest's LoggerService over pino, with a level per category (Nest's context = the logger name). */
export class PinoNestLogger implements LoggerService {
  private readonly children = new Map<string, Logger>();
  private readonly levels: Map<string, LogLevel>;

  constructor(
    private readonly root: Logger,
    private readonly config: LoggingConfig,
  ) {
    this.levels = new Map(Object.entries(config.levels).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** A logger for one category (a class name such as AmiClient), honouring logging.levels. */
  forCategory(category: string): Logger {
    let child = this.children.get(category);
    if (!child) {
      const level = this.levels.get(category.toLowerCase()) ?? this.config.level;
      child = this.root.child({ context: category }, { level });
      this.children.set(category, child);
    }
    return child;
  }

  log(message: unknown, ...optional: unknown[]): void {
    this.write('info', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('trace', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }
  setLogLevels(_levels: NestLogLevel[]): void {
    // Levels come from configuration (logging.level, logging.levels); Nest's list is not used.
  }

  private write(level: Exclude<LogLevel, 'silent'>, message: unknown, optional: unknown[]): void {
    // Nest passes the context last: (message, context) or, for errors, (message, stack, context).
    let context = 'Nest';
    const rest = [...optional];
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string')
      context = rest.pop() as string;
    const logger = this.forCategory(context);
    const stack =
      level === 'error' || level === 'fatal' ? rest.find((r) => typeof r === 'string') : undefined;
    if (message instanceof Error) {
      logger[level]({ err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level](message as object);
    } else if (stack) {
      logger[level]({ stack }, String(message));
    } else {
      logger[level](String(message));
    }
  }
}
