/**
 * Owns the login half of the AMI handshake: Login (plain secret, or MD5 challenge), the event
 * filter lines, and whether to wait for FullyBooted. Functions over an action queue; the socket
 * (ami-socket.ts) runs them in order once the banner came. Never logs or echoes a secret.
 */
import { createHash } from 'node:crypto';
import { AmiActionError } from './ami-action-error';
import type { AmiActionQueue } from './ami-action-queue';
import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiLogger } from './ami-logger';
import { DEFAULT_AMI_EVENT_FILTER, type AmiSocketOptions } from './ami-socket-options';

/** Logs in. Rejects AmiError: AuthFailed (Asterisk's message), Injection (never the value), others. */
export async function amiLogin(
  queue: AmiActionQueue,
  options: AmiSocketOptions,
  logger: AmiLogger,
  address: string,
): Promise<void> {
  const { username, secret } = options;
  const events = options.events ?? 'on';
  try {
    if ((options.authType ?? 'plain') === 'md5') {
      const challenge = await queue.send({ Action: 'Challenge', AuthType: 'md5' });
      const nonce = challenge.get('Challenge');
      if (!nonce)
        throw new AmiError(
          AmiErrorCode.Protocol,
          `AMI Challenge answered without a Challenge value`,
        );
      const key = createHash('md5')
        .update(nonce + secret)
        .digest('hex');
      await queue.send({
        Action: 'Login',
        AuthType: 'md5',
        Username: username,
        Key: key,
        Events: events,
      });
    } else {
      await queue.send({ Action: 'Login', Username: username, Secret: secret, Events: events });
    }
  } catch (err) {
    if (err instanceof AmiActionError) {
      throw new AmiError(AmiErrorCode.AuthFailed, err.serverMessage || 'Authentication failed');
    }
    if (err instanceof AmiError && err.code === AmiErrorCode.Injection) {
      // Never echo what was refused: it may be the secret.
      throw new AmiError(
        AmiErrorCode.Injection,
        'AMI username or secret contains a control character (CR, LF, ...) or is too long; not sent',
      );
    }
    throw err;
  }
  logger.debug({ address, username }, 'AMI: logged in');
}

/** Sends the event filter lines; returns those Asterisk refused, with its message. */
export async function amiSendFilters(
  queue: AmiActionQueue,
  options: AmiSocketOptions,
  logger: AmiLogger,
): Promise<{ filter: string; message: string }[]> {
  const filters = options.eventFilter ?? DEFAULT_AMI_EVENT_FILTER;
  const results = await Promise.allSettled(
    filters.map((filter) => queue.send({ Action: 'Filter', Operation: 'Add', Filter: filter })),
  );
  const rejected: { filter: string; message: string }[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    if (r.reason instanceof AmiActionError) {
      rejected.push({ filter: filters[i]!, message: r.reason.serverMessage });
      return;
    }
    throw r.reason;
  });
  if (rejected.length > 0) {
    logger.warn(
      { rejected },
      'AMI: Asterisk refused some event filter lines; those events still arrive',
    );
  }
  return rejected;
}

/** FullyBooted is a `system` event: only wait for it when the session receives that class. */
export function expectFullyBooted(options: AmiSocketOptions): boolean {
  const events = (options.events ?? 'on')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
  return events.some((e) => ['on', 'yes', 'true', 'all', 'system'].includes(e));
}
