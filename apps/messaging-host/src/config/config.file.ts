// Reads a configuration file into a plain tree: JSON as .NET's appsettings.json is written (BOM,
// comments, trailing commas, or a pasted `"asterisk": {...}` without the outer braces), or the
// legacy XML of Creatio's .NET Framework service (`*.config`, `*.xml`: see config.xml.ts).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, ConfigErrorCode } from './config.errors';
import { readLegacyXml } from './config.xml';

export interface ConfigFileContent {
  raw: unknown;
  /** Things read leniently or left aside: shown as warnings. */
  notes: string[];
  format: 'json' | 'xml';
}

/** True for the legacy XML form: by the name (`.config`, `.xml`) or by a first `<`. */
export function isXmlConfig(path: string, text: string): boolean {
  const ext = extname(path).toLowerCase();
  if (ext === '.config' || ext === '.xml') return true;
  return text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('<');
}

export function readConfigFile(path: string): ConfigFileContent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      ConfigErrorCode.FileUnreadable,
      [`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`],
      'Cannot load configuration',
    );
  }
  if (isXmlConfig(path, text)) {
    const { raw, notes } = readLegacyXml(text, path);
    return { raw, notes, format: 'xml' };
  }
  return { ...parseJsonConfig(text, path), format: 'json' };
}

/** JSON as Microsoft.Extensions.Configuration.Json reads it: comments and trailing commas allowed. */
export function parseJsonConfig(text: string, path: string): { raw: unknown; notes: string[] } {
  const body = stripTrailingCommas(stripJsonComments(text.replace(/^\uFEFF/, '')));
  try {
    return { raw: JSON.parse(body) as unknown, notes: [] };
  } catch (err) {
    // The members of an object pasted without its braces (`"asterisk": { ... }`, the guide's example).
    if (/^\s*"[^"]*"\s*:/.test(body)) {
      try {
        return {
          raw: JSON.parse(`{${body}}`) as unknown,
          notes: [
            `${path}: the file holds "key": value members without the enclosing { }; read as if they were there`,
          ],
        };
      } catch {
        // Not that either: report the error of the text as written.
      }
    }
    // The engine's message may quote the text around the error (a secret, say): report only where.
    const m = /position (\d+)/.exec((err as Error).message);
    const where = m ? lineCol(body, Number(m[1])) : 'at the end of the text (unterminated)';
    throw new ConfigError(
      ConfigErrorCode.InvalidJson,
      [`${path}: not valid JSON ${where}`],
      'Cannot load configuration',
    );
  }
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `at line ${line}, column ${col}`;
}

/** Calls `visit` for each character outside string literals; it may return where to go on. */
function scan(text: string, visit: (i: number) => number | void): void {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const skip = visit(i);
    if (typeof skip === 'number') i = skip - 1;
  }
}

/** Blanks out comments (keeping offsets, so error positions stay right), leaving strings alone. */
export function stripJsonComments(text: string): string {
  const out = text.split('');
  scan(text, (i) => {
    if (text[i] !== '/') return;
    if (text[i + 1] === '/') {
      let j = i;
      for (; j < text.length && text[j] !== '\n'; j++) out[j] = ' ';
      return j;
    }
    if (text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let j = i; j < stop; j++) if (text[j] !== '\n') out[j] = ' ';
      return stop;
    }
    return;
  });
  return out.join('');
}

/** Blanks out a comma followed only by blanks and `}` or `]` (offsets kept). */
export function stripTrailingCommas(text: string): string {
  const out = text.split('');
  scan(text, (i) => {
    if (text[i] !== ',') return;
    let j = i + 1;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    if (text[j] === '}' || text[j] === ']') out[i] = ' ';
  });
  return out.join('');
}
