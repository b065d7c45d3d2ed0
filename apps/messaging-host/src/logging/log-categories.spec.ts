import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LoggingConfig } from '../config/app-config';
import {
  LOG_CATEGORIES,
  categoryEnabled,
  categoryLevel,
  unknownCategories,
} from './log-categories';

/** The repository root (this runs from dist/apps/messaging-host/src/logging). */
const ROOT = join(__dirname, '..', '..', '..', '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!['testing', 'node_modules', 'console'].includes(name)) sources(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/** Every category the service's own code logs under, with where. */
function categoriesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))]) {
    const text = readFileSync(file, 'utf8');
    const at = relative(ROOT, file);
    const patterns = [
      /new Logger\(\s*'([A-Za-z]+)'\s*\)/g,
      /new Logger\(\s*([A-Za-z]+)\.name\s*\)/g,
      /forCategory\(\s*'([A-Za-z]+)'\s*\)/g,
      /context:\s*'([A-Za-z]+)'/g,
    ];
    for (const re of patterns) for (const m of text.matchAll(re)) found.set(m[1]!, at);
  }
  return found;
}

describe('log categories', () => {
  it('every category the code logs under is a known one (what logging.levels matches)', () => {
    const found = categoriesInSource();
    assert.ok(found.has('AmiClient') && found.has('AmiTraffic'), [...found.keys()].join(', '));
    const unknown = [...found].filter(([c]) => !(c in LOG_CATEGORIES));
    assert.deepEqual(unknown, [], 'add them to LOG_CATEGORIES and the README');
  });

  it('the README lists exactly the known categories', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Logging'));
    const table = section.slice(0, section.indexOf('\n## ', 3));
    const listed = [...table.matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), Object.keys(LOG_CATEGORIES).sort());
  });

  it('matches logging.levels keys without regard to case and names the unknown ones', () => {
    const c = Object.assign(new LoggingConfig(), {
      level: 'info',
      levels: { amiclient: 'debug', AmiTrafic: 'debug' },
    });
    assert.equal(categoryLevel(c, 'AmiClient'), 'debug');
    assert.equal(categoryLevel(c, 'RestApi'), 'info');
    assert.equal(categoryEnabled(c, 'AmiClient', 'debug'), true);
    assert.equal(categoryEnabled(c, 'AmiTraffic', 'debug'), false);
    assert.deepEqual(unknownCategories(c), ['AmiTrafic']);
  });
});
