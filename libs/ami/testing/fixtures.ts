import { existsSync, readdirSync } from 'node:fs';
import { loadScenarioFile, type AmiScenarioRecord } from '@app/ami';
import { join, resolve } from 'node:path';

/** One line of a recorded trace (`../shared/fixtures/asterisk/*.jsonl`): the scenario format. */
export type TraceRecord = AmiScenarioRecord;

/**
 * The folder of recorded AMI traces. `MESSAGING_HOST_FIXTURES` overrides; by default it is
 * `../shared/fixtures/asterisk` beside the repository. A missing folder is an error that says where
 * it looked: tests never skip silently.
 */
export function fixturesDir(): string {
  const dir =
    process.env['MESSAGING_HOST_FIXTURES'] ??
    resolve(__dirname, repoRootFromHere(), '..', 'shared', 'fixtures', 'asterisk');
  if (!existsSync(dir)) {
    throw new Error(
      `AMI fixtures not found at ${dir}: clone the repository beside shared/ or set MESSAGING_HOST_FIXTURES`,
    );
  }
  return dir;
}

/** This file runs from libs/ami/testing (ts) or dist/libs/ami/testing (js): find the repository root. */
function repoRootFromHere(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'libs'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

/** Names of the recorded scenarios (file names without .jsonl), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(fixturesDir())
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -'.jsonl'.length))
    .sort();
}

export function fixturePath(name: string): string {
  return join(fixturesDir(), name.endsWith('.jsonl') ? name : `${name}.jsonl`);
}

export function readTrace(name: string): TraceRecord[] {
  return loadScenarioFile(fixturePath(name));
}

/** The bytes Asterisk sent, per connection, in order (each element one socket read). */
export function rxChunks(records: readonly TraceRecord[], conn?: number): Buffer[] {
  return records
    .filter((r) => r.dir === 'rx' && (conn === undefined || r.conn === conn))
    .map((r) => Buffer.from(r.b64, 'base64'));
}
