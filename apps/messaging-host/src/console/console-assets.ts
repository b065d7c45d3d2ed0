// The built web console (dist/console, from scripts/build-console.mjs): read once at start and
// kept in memory with their content types and ETags. Missing files are reported, never guessed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConsoleAsset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The files the console consists of, and their content types. */
export const CONSOLE_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** dist/console, seen from this file's compiled place (dist/apps/messaging-host/src/console). */
export function consoleDir(): string {
  return join(__dirname, '..', '..', '..', '..', 'console');
}

/** Loads the console's files; `missing` names those not there (the build did not run). */
export function loadConsoleAssets(dir = consoleDir()): {
  assets: Map<string, ConsoleAsset>;
  missing: string[];
} {
  const assets = new Map<string, ConsoleAsset>();
  const missing: string[] = [];
  for (const [name, type] of Object.entries(CONSOLE_FILES)) {
    const path = join(dir, name);
    if (!existsSync(path)) {
      missing.push(path);
      continue;
    }
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type, etag });
  }
  return { assets, missing };
}
