// The log files under logging.dir: `messaging-host.<n>.log`, rolled over by size, the oldest
// deleted beyond a count (pino-roll); `current.log` links to the file being written.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pinoRoll from 'pino-roll';
import type SonicBoom from 'sonic-boom';
import type { LoggingConfig } from '../config/app-config';

export const LOG_FILE_BASE = 'messaging-host';

export interface LogFileOptions {
  dir: string;
  /** A file is rolled over once it reaches this many bytes. */
  maxBytes: number;
  /** Rolled-over files kept besides the current one. */
  maxFiles: number;
}

/** The rolling options of logging.*. */
export function logFileOptions(logging: LoggingConfig): LogFileOptions {
  return {
    dir: logging.dir,
    maxBytes: logging.maxFileSizeMb * 1024 * 1024,
    maxFiles: logging.maxFiles,
  };
}

/**
 * Opens the rolling log file stream. Numbering continues after the highest file already there, and
 * files of earlier runs count towards `maxFiles` (the oldest are deleted at each roll).
 */
export async function openLogFile(options: LogFileOptions): Promise<SonicBoom> {
  const dir = resolve(options.dir);
  try {
    mkdirSync(dir, { recursive: true });
    return await pinoRoll({
      file: join(dir, LOG_FILE_BASE),
      extension: '.log',
      size: `${options.maxBytes}b`,
      limit: { count: options.maxFiles, removeOtherLogFiles: true },
      symlink: true,
      mkdir: true,
    });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`logging.dir: cannot write the log files in ${dir} (${why})`, { cause: err });
  }
}
