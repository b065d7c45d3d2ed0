import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoggingConfig } from '../config/app-config';
import { createRootLogger, PinoNestLogger } from './pino-logger';
import { logFileOptions, openLogFile } from './log-files';

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function config(patch: Partial<LoggingConfig>): LoggingConfig {
  return Object.assign(new LoggingConfig(), patch);
}

describe('logging', () => {
  it('writes JSON lines with level, context and message', () => {
    const s = sink();
    const logger = new PinoNestLogger(createRootLogger(config({}), s.stream), config({}));
    logger.log('hello', 'Gateway');
    const [line] = s.lines();
    assert.equal(line!['level'], 'info');
    assert.equal(line!['context'], 'Gateway');
    assert.equal(line!['msg'], 'hello');
  });

  it('honours a level per category, below and above the global level', () => {
    const s = sink();
    const c = config({ level: 'info', levels: { AmiClient: 'debug', Noisy: 'error' } });
    const logger = new PinoNestLogger(createRootLogger(c, s.stream), c);
    logger.debug('d1', 'AmiClient');
    logger.debug('d2', 'Gateway');
    logger.warn('w1', 'Noisy');
    logger.error('e1', 'Noisy');
    assert.deepEqual(
      s.lines().map((l) => l['msg']),
      ['d1', 'e1'],
    );
  });

  it('never writes secret fields', () => {
    const s = sink();
    const root = createRootLogger(config({ level: 'debug' }), s.stream);
    root.info(
      { secret: 'pw-1', action: { Secret: 'pw-2', Action: 'Login' }, authorization: 'Bearer k' },
      'login',
    );
    const text = JSON.stringify(s.lines());
    assert.doesNotMatch(text, /pw-1|pw-2|Bearer k/);
    assert.match(text, /Login/);
  });

  it('also writes to a file under logging.dir when toFile is on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-logs-'));
    const s = sink();
    const c = config({ toFile: true, dir });
    const root = createRootLogger(c, s.stream, await openLogFile(logFileOptions(c)));
    root.info('to both');
    // The file stream writes asynchronously: wait (bounded) until the line is there.
    const file = join(dir, 'messaging-host.1.log');
    let text = '';
    for (let i = 0; i < 100 && !text.includes('to both'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    assert.match(text, /to both/);
    assert.match(JSON.stringify(s.lines()), /to both/);
  });
});
