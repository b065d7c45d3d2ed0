/**
 * Owns the bridge from the library's Nest-style logger to the AMI client's pino-style logger.
 * May not touch: anything but the two logger shapes.
 */
import type { AmiLogger } from '@app/ami';
import type { AsteriskLogger } from './asterisk.module-definition';

/** Bridges the library's logger to the AMI client's pino-style logger. */
export function amiLoggerFrom(log: AsteriskLogger): AmiLogger {
  const fmt = (obj: object, msg?: string): string => {
    const extra = Object.keys(obj).length ? ` ${JSON.stringify(obj)}` : '';
    return `${msg ?? ''}${extra}`;
  };
  return {
    debug: (o, m) => log.debug(fmt(o, m)),
    info: (o, m) => log.log(fmt(o, m)),
    warn: (o, m) => log.warn(fmt(o, m)),
    error: (o, m) => log.error(fmt(o, m)),
  };
}
