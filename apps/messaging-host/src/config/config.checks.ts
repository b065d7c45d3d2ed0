// Checks of configuration values that need more than one key or a look outside the config:
// packetInfoConfig syntax, a Redis URL, TLS files that must open together, ports that must differ.
// Used as decorators in app-config.ts; the loader reports their problems with all the others.
import { ValidateBy } from 'class-validator';
import { parsePacketInfoConfig } from '@app/asterisk';
import { GatewayTlsError, loadTlsOptions } from '../gateway/gateway-tls';
import type { BlockProblem } from './config.decorators';
import type { ServerConfig, TlsFilesConfig } from './app-config';

/** Why packetInfoConfig does not parse (the Asterisk library's own parser), or undefined. */
export function packetInfoProblem(text: string): string | undefined {
  try {
    parsePacketInfoConfig(text);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^packetInfoConfig /, '');
  }
}

/** packetInfoConfig must parse now, not when the library starts (docs/asterisk.md). */
export function PacketInfoSyntax(): PropertyDecorator {
  return ValidateBy({
    name: 'packetInfoConfig',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || packetInfoProblem(v) === undefined,
      defaultMessage: (args) => packetInfoProblem(String(args?.value)) ?? 'does not parse',
    },
  });
}

export function isRedisUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** A Redis URL; the message never repeats the value (it may hold a password). */
export function RedisUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'redisUrl',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || v === '' || isRedisUrl(v),
      defaultMessage: () => 'must be redis://[:password@]host[:port][/db] (or rediss:// for TLS)',
    },
  });
}

/** The certificate files open and belong together (the same code the TLS listener uses). */
export function tlsFilesCheck(tls: TlsFilesConfig): BlockProblem[] {
  try {
    loadTlsOptions(tls);
    return [];
  } catch (err) {
    if (!(err instanceof GatewayTlsError)) throw err;
    const key = err.key.replace(/^server\.tls\./, '');
    return [{ key, message: err.message.slice(err.key.length + 2) }];
  }
}

/** With TLS configured, the TLS port cannot be the plain port (the second listener would fail). */
export function serverPortsCheck(server: ServerConfig): BlockProblem[] {
  const tls = server.tls;
  const tlsOn = !!(tls?.certFile || tls?.keyFile || tls?.pfxFile);
  if (tlsOn && server.port !== 0 && server.port === server.tlsPort) {
    return [
      {
        key: 'tlsPort',
        message: `must differ from @.port (both ${server.port}): TLS needs its own port`,
      },
    ];
  }
  return [];
}

/** Every entry of a list must pass `problem` (undefined = fine); the message names the bad ones. */
export function EachEntry(problem: (entry: string) => string | undefined): PropertyDecorator {
  const problems = (v: unknown): string[] =>
    Array.isArray(v) ? v.flatMap((e) => (typeof e === 'string' ? (problem(e) ?? []) : [])) : [];
  return ValidateBy({
    name: 'eachEntry',
    validator: {
      validate: (v: unknown) => problems(v).length === 0,
      defaultMessage: (args) => problems(args?.value).join('; '),
    },
  });
}
