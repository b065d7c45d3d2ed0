import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Readiness } from '@app/messaging';
import {
  LineSettingsStore,
  LineSettingsStoreError,
  LineSettingsStoreErrorCode,
  cleanSettings,
  type LineSettingsPatch,
  type StoredLineSettings,
} from './line-settings.store';
import { parseStoredSettings } from './settings-codec';

export interface RedisLineSettingsStoreOptions {
  /** redis://[:password@]host:port/db */
  url: string;
  /** Prefix of every key (storage.redis.keyPrefix), so several deployments can share a Redis. */
  keyPrefix: string;
  /** How long a command may wait for an answer before it fails (ms). */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts (ms). */
  maxReconnectDelayMs?: number;
}

/** Merges a JSON patch into the JSON value at KEYS[1] atomically (null removes a field). */
const PATCH_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local obj = {}
if cur then obj = cjson.decode(cur) end
local patch = cjson.decode(ARGV[1])
for k, v in pairs(patch) do
  if v == cjson.null then obj[k] = nil else obj[k] = v end
end
local out = cjson.encode(obj)
redis.call('SET', KEYS[1], out)
return out
`;

type PatchingRedis = Redis & { mhPatchSettings(key: string, patch: string): Promise<string> };

/**
 * Per-line settings in Redis (storage.driver `redis`, several nodes): one JSON string per line
 * under `<keyPrefix>line-settings:<line>`; a merge runs as a Lua script, so concurrent PATCHes from
 * several nodes never lose each other's fields. Commands are never queued while Redis is away:
 * they fail at once with StoreUnavailable, and readiness is down until the connection is back.
 */
export class RedisLineSettingsStore extends LineSettingsStore {
  private readonly logger = new Logger(RedisLineSettingsStore.name);
  private readonly redis: PatchingRedis;
  /** host:port only: the URL may hold a password. */
  readonly where: string;
  private lastError: string | null = null;
  private closed = false;

  constructor(options: RedisLineSettingsStoreOptions) {
    super();
    this.where = describeRedisUrl(options.url);
    const maxDelay = options.maxReconnectDelayMs ?? 5000;
    this.redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    }) as PatchingRedis;
    this.redis.defineCommand('mhPatchSettings', { numberOfKeys: 1, lua: PATCH_SCRIPT });
    this.redis.on('error', (err: Error) => {
      const msg = err.message;
      if (msg !== this.lastError) this.logger.warn(`Redis ${this.where}: ${msg}`);
      this.lastError = msg;
    });
    this.redis.on('ready', () => {
      if (this.lastError) this.logger.log(`Redis ${this.where} is reachable again`);
      this.lastError = null;
    });
  }

  /** Starts connecting; an unreachable Redis does not stop the start (readiness says why). */
  async open(): Promise<void> {
    try {
      await this.redis.connect();
      this.logger.log(`settings store: Redis ${this.where}`);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.logger.warn(
        `Redis ${this.where} is not reachable (${this.lastError}); retrying, readiness is down`,
      );
    }
  }

  readiness(): Readiness {
    if (this.redis.status === 'ready') return { ready: true, reason: `redis ${this.where}` };
    return {
      ready: false,
      reason: `redis ${this.where} is ${this.redis.status}${this.lastError ? `: ${this.lastError}` : ''}`,
    };
  }

  async get(line: string): Promise<StoredLineSettings | undefined> {
    const text = await this.run(() => this.redis.get(key(line)));
    return text === null ? undefined : decode(text, line);
  }

  async put(line: string, settings: StoredLineSettings): Promise<StoredLineSettings> {
    const stored = cleanSettings(settings);
    await this.run(() => this.redis.set(key(line), JSON.stringify(stored)));
    return stored;
  }

  async patch(line: string, settings: LineSettingsPatch): Promise<StoredLineSettings> {
    const patch: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(settings)) if (v !== undefined) patch[k] = v;
    const text = await this.run(() => this.redis.mhPatchSettings(key(line), JSON.stringify(patch)));
    return decode(text, line);
  }

  async delete(line: string): Promise<boolean> {
    const n = await this.run(() => this.redis.del(key(line)));
    return n > 0;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      throw new LineSettingsStoreError(
        LineSettingsStoreErrorCode.StoreUnavailable,
        `the settings store (redis ${this.where}) is not connected (${this.redis.status})`,
      );
    }
    try {
      return await command();
    } catch (err) {
      throw new LineSettingsStoreError(
        LineSettingsStoreErrorCode.StoreUnavailable,
        `the settings store (redis ${this.where}) failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function key(line: string): string {
  return `line-settings:${line}`;
}

function decode(text: string, line: string): StoredLineSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineSettingsStoreError(
      LineSettingsStoreErrorCode.StoreUnavailable,
      `the settings of line ${line} in Redis are not valid JSON`,
    );
  }
  try {
    return parseStoredSettings(value, `settings of line ${line}`);
  } catch (err) {
    throw new LineSettingsStoreError(
      LineSettingsStoreErrorCode.StoreUnavailable,
      `${(err as Error).message} (in Redis)`,
    );
  }
}

/** host:port of a redis:// URL, without user or password. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return '(unparsable url)';
  }
}
