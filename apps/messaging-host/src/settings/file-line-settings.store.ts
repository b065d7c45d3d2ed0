import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Readiness } from '@app/messaging';
import {
  LineSettingsStore,
  LineSettingsStoreError,
  LineSettingsStoreErrorCode,
  mergeSettings,
  cleanSettings,
  type LineSettingsPatch,
  type StoredLineSettings,
} from './line-settings.store';
import { parseStoredSettings } from './settings-codec';

/** The file's layout; `version` lets a later release migrate it. */
interface SettingsFile {
  version: 1;
  lines: Record<string, StoredLineSettings>;
}

type Lines = Map<string, StoredLineSettings>;

interface PendingWrite {
  apply(lines: Lines): unknown;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

/**
 * Per-line settings in one JSON file (storage.driver `file`, one node). Every change is written
 * to a temporary file next to it, flushed to disk and renamed over it, so a crash leaves either
 * the old or the new file, never half of one. Writes are serialised: changes that arrive while a
 * write is in progress are applied in arrival order and written together by the next one (group
 * commit); each caller resolves only once its change is on disk, or rejects with
 * StoreUnavailable and the change is not kept.
 */
export class FileLineSettingsStore extends LineSettingsStore {
  private readonly logger = new Logger(FileLineSettingsStore.name);
  private lines: Lines = new Map();
  private readonly pending: PendingWrite[] = [];
  private writing: Promise<void> | null = null;
  private opened = false;
  private closed = false;
  private loadError: string | null = null;
  private writeError: string | null = null;
  private tmpCounter = 0;

  constructor(readonly path: string) {
    super();
  }

  /**
   * Reads the file (a missing file is an empty store). A file that cannot be read or parsed makes
   * the store unavailable (readiness down, every operation 503) instead of being overwritten.
   */
  async open(): Promise<void> {
    this.opened = true;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.logger.log(`settings file ${this.path} does not exist yet; starting empty`);
        return;
      }
      this.loadError = `cannot read the settings file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.logger.error(this.loadError);
      return;
    }
    try {
      this.lines = parseFile(text);
      this.logger.log(`settings of ${this.lines.size} line(s) loaded from ${this.path}`);
    } catch (err) {
      this.loadError = `the settings file ${this.path} is not usable (${(err as Error).message}); fix or remove it`;
      this.logger.error(this.loadError);
    }
  }

  readiness(): Readiness {
    if (!this.opened) return { ready: false, reason: 'settings store not opened yet' };
    if (this.loadError) return { ready: false, reason: this.loadError };
    if (this.writeError) return { ready: false, reason: this.writeError };
    return { ready: true, reason: `file ${this.path}` };
  }

  async get(line: string): Promise<StoredLineSettings | undefined> {
    this.usable();
    const s = this.lines.get(line);
    return s ? { ...s } : undefined;
  }

  put(line: string, settings: StoredLineSettings): Promise<StoredLineSettings> {
    return this.change((lines) => {
      const stored = cleanSettings(settings);
      lines.set(line, stored);
      return { ...stored };
    });
  }

  patch(line: string, settings: LineSettingsPatch): Promise<StoredLineSettings> {
    return this.change((lines) => {
      const stored = mergeSettings(lines.get(line), settings);
      lines.set(line, stored);
      return { ...stored };
    });
  }

  delete(line: string): Promise<boolean> {
    return this.change((lines) => lines.delete(line));
  }

  /** Lines that have settings, sorted. */
  async lineNames(): Promise<string[]> {
    this.usable();
    return [...this.lines.keys()].sort();
  }

  override async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
  }

  private usable(): void {
    if (!this.opened || this.loadError) {
      throw new LineSettingsStoreError(
        LineSettingsStoreErrorCode.StoreUnavailable,
        this.loadError ?? 'the settings store is not open',
      );
    }
    if (this.closed) {
      throw new LineSettingsStoreError(
        LineSettingsStoreErrorCode.StoreUnavailable,
        'the settings store is closed (shutting down)',
      );
    }
  }

  private change<T>(apply: (lines: Lines) => T): Promise<T> {
    try {
      this.usable();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (r: unknown) => void, reject });
      this.writing ??= this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        const next: Lines = new Map(this.lines);
        const results = batch.map((w) => w.apply(next));
        try {
          await this.writeFile(next);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          this.writeError = `cannot write the settings file ${this.path}: ${code}`;
          this.logger.error(this.writeError);
          const failure = new LineSettingsStoreError(
            LineSettingsStoreErrorCode.StoreUnavailable,
            this.writeError,
            { cause: err },
          );
          for (const w of batch) w.reject(failure);
          continue;
        }
        if (this.writeError) this.logger.log(`settings file ${this.path} is writable again`);
        this.writeError = null;
        this.lines = next;
        batch.forEach((w, i) => w.resolve(results[i]));
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeFile(lines: Lines): Promise<void> {
    const doc: SettingsFile = { version: 1, lines: Object.fromEntries([...lines].sort()) };
    const tmp = `${this.path}.${process.pid}.${++this.tmpCounter}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

function parseFile(text: string): Lines {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error('the top level must be an object');
  }
  const { version, lines } = doc as { version?: unknown; lines?: unknown };
  if (version !== 1) throw new Error(`unknown version ${JSON.stringify(version)}; expected 1`);
  if (typeof lines !== 'object' || lines === null || Array.isArray(lines)) {
    throw new Error('"lines" must be an object');
  }
  const out: Lines = new Map();
  for (const [line, value] of Object.entries(lines)) {
    out.set(line, parseStoredSettings(value, `lines["${line}"]`));
  }
  return out;
}
