import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
  ArrayUnique,
  IsEnum,
  ValidateBy,
} from 'class-validator';
import {
  FreeMap,
  Nested,
  NestedArray,
  Sensitive,
  ToBoolean,
  ToNumber,
  ToStringList,
} from './config.decorators';
import { ClusterConfig, ClusterNeedsRedis } from './cluster.config';
import { CrmConfig, CrmModeHasAddress } from './crm.config';
import { ConsoleConfig } from './console.config';
import { EventsConfig } from './events.config';
import { MetricsConfig } from './metrics.config';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The seed's `asterisk` block, key for key (Creatio 7.16 guide), plus our own transport keys.
 * String booleans and numbers are accepted as the original's appsettings.json writes them.
 */
export class AsteriskConfig {
  /** Address of the Asterisk server (AMI). Not needed when replaying a scenario file. */
  @ValidateIf((o: AsteriskConfig) => !o.filePath)
  @IsString()
  @IsNotEmpty({ message: 'must name the Asterisk host (or set asterisk.filePath to replay)' })
  url = '127.0.0.1';

  @ToNumber()
  @IsInt({ message: 'must be an integer port from 1 to 65535' })
  @Min(1, { message: 'must be an integer port from 1 to 65535' })
  @Max(65535, { message: 'must be an integer port from 1 to 65535' })
  port = 5038;

  @ValidateIf((o: AsteriskConfig) => !o.filePath)
  @IsString()
  @IsNotEmpty({ message: 'must name the AMI user of manager.conf' })
  userName = '';

  @Sensitive()
  @IsString()
  secret = '';

  /** Dialplan context the operator's line is originated into for an outgoing call. */
  @IsString()
  @IsNotEmpty()
  originateContext = 'from-internal';

  /** Context used to take a parked call back; empty means originateContext. */
  @IsString()
  parkingLotContext = '';

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  autoPauseOnCommutationStart = true;

  @IsString()
  @Matches(/\{0\}/, { message: 'must contain {0} where the line goes' })
  queueExtensionFormat = 'Local/{0}@from-queue/n';

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  asyncOriginate = true;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  sendRingStartedOnRingingState = true;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  traceQueuesState = false;

  @IsString()
  @Matches(/^[A-Za-z0-9]+\/$/, {
    message: 'must be a channel technology ending in "/", e.g. "SIP/" or "PJSIP/"',
  })
  protocol = 'SIP/';

  @IsString()
  packetInfoConfig = '';

  /** A scenario file to replay instead of connecting (diagnostics). Empty: connect. */
  @IsString()
  filePath = '';

  // --- ours, beyond the seed ---

  /** AMI over TLS. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  tls = false;

  /** Verify the server certificate when tls is on. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  tlsRejectUnauthorized = true;

  /** plain: Login with the secret; md5: Challenge then Login with AuthType md5. */
  @IsIn(['plain', 'md5'])
  authType: 'plain' | 'md5' = 'plain';

  @ToNumber()
  @IsInt()
  @Min(100)
  connectTimeoutMs = 5000;

  @ToNumber()
  @IsInt()
  @Min(100)
  actionTimeoutMs = 10000;

  /** Ping every this many ms; 0 turns keepalive off. */
  @ToNumber()
  @IsInt()
  @Min(0)
  pingIntervalMs = 15000;

  /** No answer to a Ping within this many ms: the peer is dead. */
  @ToNumber()
  @IsInt()
  @Min(100)
  pingTimeoutMs = 5000;

  @ToNumber()
  @IsInt()
  @Min(10)
  reconnectMinDelayMs = 500;

  @ToNumber()
  @IsInt()
  @Min(10)
  reconnectMaxDelayMs = 10000;

  /** The largest AMI packet accepted; larger is a protocol error and the connection is reset. */
  @ToNumber()
  @IsInt()
  @Min(1024)
  maxPacketBytes = 1024 * 1024;

  /** Replay pace: 1 is the recorded pace, 2 twice as fast, 0 as fast as possible. */
  @ToNumber()
  @IsNumber()
  @Min(0)
  replaySpeed = 1;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  replayLoop = false;

  /** parkingLotContext as the seed defines it: empty means originateContext. */
  effectiveParkingLotContext(): string {
    return this.parkingLotContext || this.originateContext;
  }
}

export class MessagingConfig {
  /** The messaging library used when a client does not name one (LoadLibrary AssemblyName). */
  @IsString()
  @IsNotEmpty()
  defaultLibrary = 'asterisk';
}

export class TlsFilesConfig {
  /** PEM certificate (chain) file. */
  @IsString()
  certFile = '';

  /** PEM private key file. */
  @IsString()
  keyFile = '';

  /** PFX/PKCS#12 file (the original's certificate.pfx), instead of certFile + keyFile. */
  @IsString()
  pfxFile = '';

  @Sensitive()
  @IsString()
  passphrase = '';
}

export class ServerConfig {
  /** Interface to listen on. */
  @IsString()
  @IsNotEmpty()
  host = '0.0.0.0';

  /** Client port: plain WebSocket, SignalR over http, REST, health. 0 picks a free port. */
  @ToNumber()
  @IsInt({ message: 'must be an integer port from 0 to 65535' })
  @Min(0, { message: 'must be an integer port from 0 to 65535' })
  @Max(65535, { message: 'must be an integer port from 0 to 65535' })
  port = 2013;

  /** TLS port (wss://, https://), opened only when certificate files are set. */
  @ToNumber()
  @IsInt({ message: 'must be an integer port from 0 to 65535' })
  @Min(0, { message: 'must be an integer port from 0 to 65535' })
  @Max(65535, { message: 'must be an integer port from 0 to 65535' })
  tlsPort = 2014;

  @Nested(() => TlsFilesConfig)
  tls = new TlsFilesConfig();

  /** The largest client command in bytes (the original caps it at 4096). */
  @ToNumber()
  @IsInt()
  @Min(256)
  maxCommandLength = 4096;

  /** A client whose unsent data exceeds this many bytes is disconnected. */
  @ToNumber()
  @IsInt()
  @Min(1024)
  maxBufferedBytes = 1024 * 1024;

  /** Ping interval for client sockets, ms (SignalR needs at most 15 s). */
  @ToNumber()
  @IsInt()
  @Min(1000)
  @Max(15000)
  heartbeatIntervalMs = 15000;

  /** On SIGTERM, how long open connections may drain before they are closed, ms. */
  @ToNumber()
  @IsInt()
  @Min(0)
  @Max(4500)
  shutdownDrainMs = 3000;
}

export enum SecurityMode {
  None = 'none',
  AllowList = 'allowlist',
  Token = 'token',
  /** The claimed user is checked with the CRM (LogInMsgServer), see crm.config.ts. */
  Crm = 'crm',
}

export class SecurityConfig {
  @IsEnum(SecurityMode, { message: 'must be one of none, allowlist, token, crm' })
  mode: SecurityMode = SecurityMode.None;

  /** Browser Origins allowed to connect (allowlist mode), e.g. https://crm.example.com. */
  @ToStringList()
  @IsString({ each: true })
  @ArrayUnique()
  allowedOrigins: string[] = [];

  /** CRM ServiceUrls (sessionServiceParams.ServiceUrl) allowed (allowlist mode). */
  @ToStringList()
  @IsString({ each: true })
  @ArrayUnique()
  allowedServiceUrls: string[] = [];

  /** HMAC-SHA256 shared secret for signed tokens (token mode). */
  @Sensitive()
  @ValidateIf((o: SecurityConfig) => o.mode === SecurityMode.Token)
  @IsString()
  @Matches(/^.{32,}$/s, { message: 'must be at least 32 characters in token mode' })
  tokenSecret = '';
}

export const API_SCOPES = ['read', 'calls', 'settings', 'metrics'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export class ApiKeyConfig {
  @IsString()
  @IsNotEmpty()
  name = '';

  /** Hex SHA-256 digest of the key: the key itself is never stored. */
  @IsString()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'must be the 64-character hex SHA-256 of the key' })
  sha256 = '';

  @ToStringList()
  @IsIn(API_SCOPES, { each: true, message: `each scope must be one of ${API_SCOPES.join(', ')}` })
  scopes: ApiScope[] = [];
}

export class RateLimitConfig {
  @ToNumber()
  @IsInt()
  @Min(1)
  limit = 120;

  @ToNumber()
  @IsInt()
  @Min(100)
  ttlMs = 60000;
}

export class ApiConfig {
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  enabled = true;

  /** Names appear in logs and count the rate limit: each name and each digest once. */
  @NestedArray(() => ApiKeyConfig)
  @ValidateBy({
    name: 'uniqueApiKeys',
    validator: {
      validate: (v: unknown) => {
        if (!Array.isArray(v)) return true;
        const items = v as Partial<ApiKeyConfig>[];
        const names = items.map((k) => k?.name);
        const digests = items.map((k) => k?.sha256?.toLowerCase());
        return new Set(names).size === names.length && new Set(digests).size === digests.length;
      },
      defaultMessage: () => 'each key must have its own name and its own sha256',
    },
  })
  keys: ApiKeyConfig[] = [];

  @Nested(() => RateLimitConfig)
  rateLimit = new RateLimitConfig();
}

export class FileStoreConfig {
  @IsString()
  @IsNotEmpty()
  path = 'data/settings.json';
}

export class RedisStoreConfig {
  /** redis://[:password@]host:port/db; the password part is a secret. */
  @Sensitive()
  @IsString()
  @IsNotEmpty()
  url = 'redis://127.0.0.1:6379';

  @IsString()
  keyPrefix = 'messaging-host:';
}

export class StorageConfig {
  @IsIn(['file', 'redis'])
  driver: 'file' | 'redis' = 'file';

  @Nested(() => FileStoreConfig)
  file = new FileStoreConfig();

  @Nested(() => RedisStoreConfig)
  redis = new RedisStoreConfig();
}

export class LoggingConfig {
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  level: LogLevel = 'info';

  /** Level per category (logger name), like the original's nlog.config rules. */
  @FreeMap()
  @IsOptional()
  @ValidateBy({
    name: 'isLogLevelMap',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).every((l) => (LOG_LEVELS as readonly unknown[]).includes(l)),
      defaultMessage: () =>
        `must map logger names to levels (${LOG_LEVELS.join(', ')}), e.g. {"AmiClient": "debug"}`,
    },
  })
  levels: Record<string, LogLevel> = {};

  /** Also write JSON lines to files under dir. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  toFile = false;

  @IsString()
  @IsNotEmpty()
  dir = 'logs';

  /** A log file is rolled over (a new numbered file) once it reaches this size, MiB. */
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(10240)
  maxFileSizeMb = 10;

  /** Rolled-over files kept besides the current one; older ones are deleted. */
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxFiles = 5;
}

export class AppConfig {
  @Nested(() => AsteriskConfig)
  asterisk = new AsteriskConfig();

  @Nested(() => MessagingConfig)
  messaging = new MessagingConfig();

  @Nested(() => ServerConfig)
  server = new ServerConfig();

  @Nested(() => SecurityConfig)
  security = new SecurityConfig();

  @Nested(() => ApiConfig)
  api = new ApiConfig();

  @Nested(() => StorageConfig)
  storage = new StorageConfig();

  @Nested(() => LoggingConfig)
  logging = new LoggingConfig();

  @Nested(() => ClusterConfig)
  @ClusterNeedsRedis()
  cluster = new ClusterConfig();

  @Nested(() => CrmConfig)
  @CrmModeHasAddress()
  crm = new CrmConfig();

  @Nested(() => MetricsConfig)
  metrics = new MetricsConfig();

  @Nested(() => EventsConfig)
  events = new EventsConfig();

  @Nested(() => ConsoleConfig)
  console = new ConsoleConfig();
}
