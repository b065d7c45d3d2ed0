// How the AMI client logs in the service: its own lines under the category AmiClient, and (only
// when AmiTraffic is at debug) every packet read and written under AmiTraffic, secrets masked.
import { Logger } from '@nestjs/common';
import { redactSecrets, type AmiLogger, type AmiWireRecord } from '@app/ami';
import type { LoggingConfig } from '../config/app-config';
import { categoryEnabled } from './log-categories';

/** The AMI client's pino-style logger over Nest's Logger('AmiClient') (fields kept). */
export function amiClientLogger(): AmiLogger {
  const log = new Logger('AmiClient');
  return {
    debug: (obj, msg) => log.debug({ ...obj, msg }),
    info: (obj, msg) => log.log({ ...obj, msg }),
    warn: (obj, msg) => log.warn({ ...obj, msg }),
    error: (obj, msg) => log.error({ ...obj, msg }),
  };
}

/**
 * A wire tap that logs every chunk read (`<-`) and written (`->`) at debug under AmiTraffic, or
 * undefined when that category is above debug (then the client has no tap at all: no cost).
 * Login secrets and MD5 keys are replaced by *** before the text leaves this function.
 */
export function amiTrafficTap(logging: LoggingConfig): ((r: AmiWireRecord) => void) | undefined {
  if (!categoryEnabled(logging, 'AmiTraffic', 'debug')) return undefined;
  const log = new Logger('AmiTraffic');
  return (r) => {
    if (r.dir === 'meta') {
      log.debug({ conn: r.conn, msg: `connection ${r.conn ?? '?'}: ${r.note ?? ''}` });
      return;
    }
    const bytes = r.dir === 'tx' ? redactSecrets(r.bytes) : r.bytes;
    log.debug({
      dir: r.dir,
      conn: r.conn,
      bytes: r.bytes.length,
      ...(r.action ? { action: r.action } : {}),
      msg: `${r.dir === 'rx' ? '<-' : '->'} ${bytes.toString('utf8')}`,
    });
  };
}
