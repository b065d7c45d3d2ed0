import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from './app-config';
import { configLeafKeys as leafKeys } from './config.decorators';
import { ConfigError } from './config.errors';
import { loadConfig, redactedConfig, stripJsonComments } from './config.loader';

function tempFile(content: unknown, name = 'appsettings.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mh-config-'));
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

function set(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]!] = value;
}

/**
 * For every key: a value for the file and another for the environment (as an env string), both
 * valid and both different from the default, with what each must load as.
 */
const SAMPLES: Record<
  string,
  { file: unknown; env: string; envLoaded?: unknown; fileLoaded?: unknown }
> = {
  'asterisk.url': { file: 'pbx-file.example', env: 'pbx-env.example' },
  'asterisk.port': { file: '5039', fileLoaded: 5039, env: '5040', envLoaded: 5040 },
  'asterisk.userName': { file: 'bpm', env: 'crm' },
  'asterisk.secret': { file: 'file-secret', env: 'env-secret' },
  'asterisk.originateContext': { file: 'ctx-file', env: 'ctx-env' },
  'asterisk.parkingLotContext': { file: 'park-file', env: 'park-env' },
  'asterisk.autoPauseOnCommutationStart': {
    file: 'false',
    fileLoaded: false,
    env: 'TRUE',
    envLoaded: true,
  },
  'asterisk.queueExtensionFormat': { file: 'Local/{0}@from-queue', env: 'Local/{0}@q/n' },
  'asterisk.asyncOriginate': { file: false, env: 'true', envLoaded: true },
  'asterisk.sendRingStartedOnRingingState': {
    file: 'false',
    fileLoaded: false,
    env: 'true',
    envLoaded: true,
  },
  'asterisk.traceQueuesState': { file: true, env: 'false', envLoaded: false },
  'asterisk.protocol': { file: 'PJSIP/', env: 'IAX2/' },
  'asterisk.packetInfoConfig': { file: 'X-Header', env: 'var:CRM_ID' },
  'asterisk.filePath': { file: 'file.jsonl', env: 'env.jsonl' },
  'asterisk.tls': { file: 'true', fileLoaded: true, env: 'false', envLoaded: false },
  'asterisk.tlsRejectUnauthorized': { file: false, env: 'true', envLoaded: true },
  'asterisk.authType': { file: 'md5', env: 'plain' },
  'asterisk.connectTimeoutMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'asterisk.actionTimeoutMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'asterisk.pingIntervalMs': { file: 0, env: '2000', envLoaded: 2000 },
  'asterisk.pingTimeoutMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'asterisk.reconnectMinDelayMs': { file: 100, env: '200', envLoaded: 200 },
  'asterisk.reconnectMaxDelayMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'asterisk.maxPacketBytes': { file: 4096, env: '8192', envLoaded: 8192 },
  'asterisk.replaySpeed': { file: 2, env: '0.5', envLoaded: 0.5 },
  'asterisk.replayLoop': { file: true, env: 'false', envLoaded: false },
  'messaging.defaultLibrary': {
    file: 'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2',
    env: 'other',
  },
  'server.host': { file: '127.0.0.1', env: '::1' },
  'server.port': { file: 3013, env: '4013', envLoaded: 4013 },
  'server.tlsPort': { file: 3014, env: '4014', envLoaded: 4014 },
  'server.tls.certFile': { file: 'a.pem', env: 'b.pem' },
  'server.tls.keyFile': { file: 'a.key', env: 'b.key' },
  'server.tls.pfxFile': { file: 'a.pfx', env: 'b.pfx' },
  'server.tls.passphrase': { file: 'p1', env: 'p2' },
  'server.maxCommandLength': { file: 8192, env: '16384', envLoaded: 16384 },
  'server.maxBufferedBytes': { file: 2048, env: '4096', envLoaded: 4096 },
  'server.heartbeatIntervalMs': { file: 5000, env: '10000', envLoaded: 10000 },
  'server.shutdownDrainMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'security.mode': { file: 'allowlist', env: 'none' },
  'security.allowedOrigins': {
    file: ['https://a.example'],
    env: 'https://b.example, https://c.example',
    envLoaded: ['https://b.example', 'https://c.example'],
  },
  'security.allowedServiceUrls': {
    file: ['https://crm-a.example'],
    env: '["https://crm-b.example"]',
    envLoaded: ['https://crm-b.example'],
  },
  'security.tokenSecret': { file: 'x'.repeat(40), env: 'y'.repeat(40) },
  'api.enabled': { file: false, env: 'true', envLoaded: true },
  'api.keys': {
    file: [{ name: 'crm', sha256: 'a'.repeat(64), scopes: ['read'] }],
    env: JSON.stringify([{ name: 'bp', sha256: 'b'.repeat(64), scopes: ['calls', 'settings'] }]),
    envLoaded: [{ name: 'bp', sha256: 'b'.repeat(64), scopes: ['calls', 'settings'] }],
  },
  'api.rateLimit.limit': { file: 10, env: '20', envLoaded: 20 },
  'api.rateLimit.ttlMs': { file: 1000, env: '2000', envLoaded: 2000 },
  'storage.driver': { file: 'redis', env: 'file' },
  'storage.file.path': { file: 'a/settings.json', env: 'b/settings.json' },
  'storage.redis.url': { file: 'redis://127.0.0.1:7000', env: 'redis://127.0.0.1:7001' },
  'storage.redis.keyPrefix': { file: 'a:', env: 'b:' },
  'logging.level': { file: 'debug', env: 'warn' },
  // A map is merged key by key, as .NET's configuration does.
  'logging.levels': {
    file: { AmiClient: 'debug' },
    env: '{"Gateway":"trace"}',
    envLoaded: { AmiClient: 'debug', Gateway: 'trace' },
  },
  'logging.toFile': { file: 'true', fileLoaded: true, env: 'false', envLoaded: false },
  'logging.dir': { file: 'logs-a', env: 'logs-b' },
  'logging.maxFileSizeMb': { file: 20, env: '30', envLoaded: 30 },
  'logging.maxFiles': { file: 3, env: '9', envLoaded: 9 },
  'metrics.enabled': { file: false, env: 'true', envLoaded: true },
  'metrics.path': { file: '/prom', env: '/internal/metrics' },
  'metrics.requireKey': { file: true, env: 'false', envLoaded: false },
  'events.maxClients': { file: 10, env: '20', envLoaded: 20 },
  'console.enabled': { file: false, env: 'true', envLoaded: true },
  'console.lines': { file: ['305'], env: '305, 306', envLoaded: ['305', '306'] },
  'cluster.enabled': { file: 'true', fileLoaded: true, env: 'false', envLoaded: false },
  'cluster.nodeId': { file: 'node-a', env: 'node-b' },
  'cluster.leaseMs': { file: 3000, env: '4000', envLoaded: 4000 },
  'cluster.secret': { file: 'c'.repeat(40), env: 'd'.repeat(40) },
  'crm.saveCalls': { file: 'false', fileLoaded: false, env: 'TRUE', envLoaded: true },
  'crm.serviceUrl': { file: 'https://crm-a.example/0', env: 'http://crm-b.example:8080' },
  'crm.timeoutMs': { file: 2000, env: '3000', envLoaded: 3000 },
  'crm.concurrency': { file: 2, env: '8', envLoaded: 8 },
  'crm.licInfoKeys': {
    file: ['A.Use'],
    env: 'B.Use, C.Use',
    envLoaded: ['B.Use', 'C.Use'],
  },
  'crm.loginCacheMs': { file: 0, env: '5000', envLoaded: 5000 },
  'crm.outbox.maxRecords': { file: 100, env: '200', envLoaded: 200 },
  'crm.outbox.retryMinDelayMs': { file: 500, env: '600', envLoaded: 600 },
  'crm.outbox.retryMaxDelayMs': { file: 30000, env: '40000', envLoaded: 40000 },
  'crm.outbox.maxAgeMs': { file: 3600000, env: '7200000', envLoaded: 7200000 },
  'crm.outbox.ownerLeaseMs': { file: 5000, env: '6000', envLoaded: 6000 },
};

function envName(path: string): string {
  return path.replace(/\./g, '__').toUpperCase();
}

function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

describe('loadConfig', () => {
  it('has a sample for every key of the schema (so precedence is tested key by key)', () => {
    assert.deepEqual(leafKeys(AppConfig).sort(), Object.keys(SAMPLES).sort());
  });

  it('is documented key by key in the README, with its environment variable', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'README.md'), 'utf8');
    const missing = leafKeys(AppConfig).filter(
      (k) => !readme.includes(`| \`${k}\``) || !readme.includes(`\`${envName(k)}\``),
    );
    assert.deepEqual(
      missing,
      [],
      `README.md lacks a row (key and env name) for: ${missing.join(', ')}`,
    );
  });

  it('uses built-in defaults when there is no file, with a warning', () => {
    const { config, warnings, file } = loadConfig({
      argv: [],
      env: { ASTERISK__USERNAME: 'terrasoft' },
      cwd: mkdtempSync(join(tmpdir(), 'mh-')),
    });
    assert.equal(config.asterisk.url, '127.0.0.1');
    assert.equal(file, null);
    assert.match(warnings.join('\n'), /no configuration file/);
    assert.equal(config.asterisk.port, 5038);
    assert.equal(config.asterisk.protocol, 'SIP/');
    assert.equal(config.asterisk.queueExtensionFormat, 'Local/{0}@from-queue/n');
    assert.equal(config.asterisk.sendRingStartedOnRingingState, true);
    assert.equal(config.asterisk.filePath, '');
    assert.equal(config.server.port, 2013);
    assert.equal(config.server.tlsPort, 2014);
    assert.equal(config.server.maxCommandLength, 4096);
  });

  for (const path of Object.keys(SAMPLES)) {
    it(`precedence for ${path}: default < file < ${envName(path)}`, () => {
      const sample = SAMPLES[path]!;
      const base: Record<string, unknown> = {
        asterisk: { url: 'pbx', userName: 'u', secret: 's' },
      };
      // Combinations that need a companion value to be valid.
      if (path === 'security.mode') set(base, 'security.tokenSecret', 'z'.repeat(40));
      if (path === 'cluster.enabled') {
        set(base, 'storage.driver', 'redis');
        set(base, 'cluster.secret', 'z'.repeat(40));
      }
      const def = get(new AppConfig(), path);

      const fileObj = structuredClone(base);
      set(fileObj, path, sample.file);
      const file = tempFile(fileObj);
      const fromFile = loadConfig({ argv: ['--config', file], env: {} }).config;
      const fileValue = plain(get(fromFile, path));
      assert.deepEqual(
        fileValue,
        plain(sample.fileLoaded ?? sample.file),
        'the file wins over the default',
      );
      assert.notDeepEqual(fileValue, plain(def), 'the sample differs from the default');

      const fromEnv = loadConfig({
        argv: ['--config', file],
        env: { [envName(path)]: sample.env },
      }).config;
      assert.deepEqual(
        plain(get(fromEnv, path)),
        plain(sample.envLoaded ?? sample.env),
        'the environment wins over the file',
      );

      // Names are matched without regard to case.
      const mixed = envName(path).toLowerCase();
      const fromMixed = loadConfig({
        argv: ['--config', file],
        env: { [mixed]: sample.env },
      }).config;
      assert.deepEqual(plain(get(fromMixed, path)), plain(sample.envLoaded ?? sample.env));
    });
  }

  it('finds the file by --config, then MESSAGING_HOST_CONFIG, then config/appsettings.json', () => {
    const a = tempFile({ asterisk: { url: 'from-arg', userName: 'u' } });
    const b = tempFile({ asterisk: { url: 'from-env', userName: 'u' } });
    const cwd = mkdtempSync(join(tmpdir(), 'mh-cwd-'));
    const c = join(cwd, 'config');
    mkdirSync(c);
    writeFileSync(
      join(c, 'appsettings.json'),
      JSON.stringify({ asterisk: { url: 'from-default', userName: 'u' } }),
    );
    assert.equal(
      loadConfig({ argv: ['--config', a], env: { MESSAGING_HOST_CONFIG: b }, cwd }).config.asterisk
        .url,
      'from-arg',
    );
    assert.equal(
      loadConfig({ argv: [`--config=${a}`], env: {}, cwd }).config.asterisk.url,
      'from-arg',
    );
    assert.equal(
      loadConfig({ argv: [], env: { MESSAGING_HOST_CONFIG: b }, cwd }).config.asterisk.url,
      'from-env',
    );
    assert.equal(loadConfig({ argv: [], env: {}, cwd }).config.asterisk.url, 'from-default');
  });

  it('refuses a named file that does not exist', () => {
    assert.throws(
      () => loadConfig({ argv: ['--config', '/nonexistent/x.json'], env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /not found: \/nonexistent\/x\.json/);
        return true;
      },
    );
  });

  it("accepts the seed's block as an admin pastes it: string booleans and numbers, any key case", () => {
    const file = tempFile({
      Asterisk: {
        URL: '10.0.15.185',
        port: '5038',
        userName: 'bpm',
        secret: 'bpm',
        originateContext: 'from-internal',
        parkingLotContext: 'from-internal',
        autoPauseOnCommutationStart: 'true',
        queueExtensionFormat: 'Local/{0}@from-queue/n',
        asyncOriginate: 'true',
        sendRingStartedOnRingingState: 'true',
        traceQueuesState: 'false',
        protocol: 'SIP/',
        packetInfoConfig: '',
        filePath: '',
      },
    });
    const { config, warnings } = loadConfig({ argv: ['--config', file], env: {} });
    assert.equal(config.asterisk.url, '10.0.15.185');
    assert.equal(config.asterisk.port, 5038);
    assert.equal(config.asterisk.autoPauseOnCommutationStart, true);
    assert.equal(config.asterisk.traceQueuesState, false);
    assert.deepEqual(warnings, []);
  });

  it('parkingLotContext defaults to originateContext', () => {
    const file = tempFile({ asterisk: { url: 'x', userName: 'u', originateContext: 'from-crm' } });
    const { config } = loadConfig({ argv: ['--config', file], env: {} });
    assert.equal(config.asterisk.parkingLotContext, '');
    assert.equal(config.asterisk.effectiveParkingLotContext(), 'from-crm');
  });

  it('reports every invalid key in one error, naming path, rule and value, secrets as ***', () => {
    const file = tempFile({
      asterisk: { url: 'x', userName: 'u', secret: 'topsecret-1' },
      security: { mode: 'token', tokenSecret: 'short-secret-2' },
    });
    const env = {
      ASTERISK__PORT: 'abc',
      ASTERISK__URL: '',
      SERVER__PORT: '70000',
      ASTERISK__PROTOCOL: 'SIP',
      ASTERISK__ASYNCORIGINATE: 'yes',
      LOGGING__LEVEL: 'loud',
      API__KEYS: '[{"name":"k","sha256":"nothex","scopes":["admin"]}]',
    };
    assert.throws(
      () => loadConfig({ argv: ['--config', file], env }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const m = e.message;
        assert.match(m, /asterisk\.port: .*isInt.* \(value: "abc", from the environment\)/);
        assert.match(m, /asterisk\.url: .*isNotEmpty.*\(value: ""/);
        assert.match(m, /server\.port: .*max.*\(value: 70000/);
        assert.match(m, /asterisk\.protocol: /);
        assert.match(
          m,
          /asterisk\.asyncOriginate: isBoolean: must be true or false \(value: "yes"/,
        );
        assert.match(m, /logging\.level: /);
        assert.match(m, /api\.keys\[0\]\.sha256: /);
        assert.match(m, /api\.keys\[0\]\.scopes: /);
        assert.match(m, /security\.tokenSecret: .*\(value: \*\*\*\)/);
        assert.doesNotMatch(m, /short-secret-2/);
        assert.doesNotMatch(m, /topsecret-1/);
        assert.equal(e.problems.length, 9);
        return true;
      },
    );
  });

  it('warns about unknown keys in the file and the environment, and still loads', () => {
    const file = tempFile({
      asterisk: { url: 'x', userName: 'u', colour: 'red' },
      Logging: { LogLevel: {} },
      AllowedHosts: '*',
    });
    const { warnings } = loadConfig({
      argv: ['--config', file],
      env: { ASTERISK__FOO: '1', PATH: '/bin', SOME__OTHER: 'x' },
    });
    const all = warnings.join('\n');
    assert.match(all, /asterisk\.colour/);
    assert.match(all, /logging\.LogLevel/);
    assert.match(all, /AllowedHosts/);
    assert.match(all, /asterisk\.foo \(environment ASTERISK__FOO\)/);
    assert.doesNotMatch(all, /SOME|PATH/);
  });

  it('accepts comments and a BOM as .NET does, and reports bad JSON by line and column without quoting it', () => {
    const ok = tempFile(
      '\uFEFF{\n // the PBX\n "asterisk": { /* inline */ "url": "a//b", "userName": "u" }\n}',
    );
    assert.equal(loadConfig({ argv: ['--config', ok], env: {} }).config.asterisk.url, 'a//b');
    const bad = tempFile('{\n "asterisk": { "secret": "hunter2-secret" \n "url": "x" }\n}');
    assert.throws(
      () => loadConfig({ argv: ['--config', bad], env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /not valid JSON at line 3, column 2/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      },
    );
    assert.equal(stripJsonComments('{"a":"/*x*/"}'), '{"a":"/*x*/"}');
  });

  it('refuses an env JSON value that does not parse, naming the variable', () => {
    assert.throws(
      () => loadConfig({ argv: [], env: { API__KEYS: '[{"name":' }, cwd: tmpdir() }),
      /environment API__KEYS: not valid JSON/,
    );
  });

  it('redacts secrets for display', () => {
    const file = tempFile({
      asterisk: { url: 'x', userName: 'u', secret: 'pw-1' },
      server: { tls: { passphrase: 'pw-2' } },
    });
    const shown = JSON.stringify(
      redactedConfig(loadConfig({ argv: ['--config', file], env: {} }).config),
    );
    assert.doesNotMatch(shown, /pw-1|pw-2/);
    assert.match(shown, /"secret":"\*\*\*"/);
  });
});
