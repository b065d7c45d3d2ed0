// The log categories (logger names) the service writes under: what `logging.levels` keys match.
// The README's Logging table lists exactly these; a spec checks both against the source.
import type { LoggingConfig, LogLevel } from '../config/app-config';

/** Category -> what it logs. */
export const LOG_CATEGORIES: Readonly<Record<string, string>> = {
  Main: 'start, configuration warnings, listening address, shutdown',
  Process: 'unhandled promise rejections',
  AmiClient:
    'the AMI connection: connecting, login, keepalive, losses and reconnects, replay (info, warn); retries at debug',
  AmiTraffic: 'every AMI packet read and written, as text (debug only; secrets shown as ***)',
  AsteriskLibrary:
    'calls and commands: resync, originate, hold, transfer, queue pause and agent state',
  MessagingRegistry: 'the messaging libraries found at start and the active one',
  ClientGateway: 'the CTI gateway: TLS listener, closing clients at shutdown',
  ClientSocket: 'CTI client sockets: slow or silent clients dropped, SignalR protocol errors',
  ClientSession: 'CTI sessions: lines opened and refused, commands that failed inside the server',
  LineHub: 'lines bound to and released by CTI clients (debug)',
  RestApi: 'REST requests: commands at info, reads at debug, with the API key name',
  ApiExceptionFilter: 'refused or failed REST requests, with status and code',
  ApiKeyGuard: 'the API key configuration (no key configured)',
  FileLineSettingsStore: 'the settings file: unreadable or unwritable file',
  RedisLineSettingsStore: 'the Redis settings store: connection lost and restored',
  Cluster: 'this node joining a cluster (cluster.enabled): its id and lease time',
  ClusterRedis: "the cluster's Redis: lost and reachable again",
  ClusterNodes: "this node's heartbeat in Redis",
  LineLeases: 'line leases: taken, re-established, renewal failing and renewed again',
  LineActionGate: 'which node acts on a line (queue pauses) when it cannot be decided',
  AgentStates: 'agent states shared through Redis: reading or subscribing failed',
  RedisThrottlerStorage:
    'REST rate limits counted in Redis, or on this node alone while it is away',
  CrmCalls: 'calls saved in the CRM: on or off, where, takeovers, saves that fail',
  CrmLogin: '`security.mode crm`: LogInMsgServer refusals and failures',
  CrmOutbox: 'the CRM outbox (file or Redis): store errors, calls taken over from nodes gone',
  Metrics: 'the /metrics endpoint configuration',
  EventStream: 'event stream (SSE) clients: opened, closed, cut off for not reading',
  Console: 'the web console: missing build',
  Recorder: '`npm run record`: the recording session',
  NestFactory: "Nest's start-up",
  InstanceLoader: "Nest's modules loaded (start-up)",
  RoutesResolver: "Nest's routes (start-up)",
  RouterExplorer: "Nest's routes mapped (start-up)",
  NestApplication: "Nest's application started",
};

const ORDER: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** The level a category logs at: its own in logging.levels (any case), else logging.level. */
export function categoryLevel(logging: LoggingConfig, category: string): LogLevel {
  const want = category.toLowerCase();
  for (const [k, v] of Object.entries(logging.levels)) if (k.toLowerCase() === want) return v;
  return logging.level;
}

/** Whether `category` writes lines of `level`. */
export function categoryEnabled(
  logging: LoggingConfig,
  category: string,
  level: Exclude<LogLevel, 'silent'>,
): boolean {
  return ORDER[categoryLevel(logging, category)] <= ORDER[level];
}

/** The keys of logging.levels that name no category (a typo, or a name the original used). */
export function unknownCategories(logging: LoggingConfig): string[] {
  const known = new Set(Object.keys(LOG_CATEGORIES).map((c) => c.toLowerCase()));
  return Object.keys(logging.levels).filter((k) => !known.has(k.toLowerCase()));
}
