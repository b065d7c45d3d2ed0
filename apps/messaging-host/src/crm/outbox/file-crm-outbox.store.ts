/**
 * The outbox of one node in a journal file beside the settings file (`<settings>.crm-outbox.jsonl`):
 * one JSON line per write ({"p": call} or {"d": id}), appended and flushed to disk in groups; read
 * back at start (a torn last line from a crash is skipped), and compacted (the live calls written to
 * a new file, renamed over) when the dead lines outnumber the live ones.
 */
import { mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Readiness } from '@app/messaging';
import { CrmOutboxStore, type InspectedCall } from './crm-outbox.store';
import { parseStoredCall, type StoredCrmCall } from './crm-outbox.types';

/** The journal's path for a settings file: data/settings.json -> data/settings.crm-outbox.jsonl. */
export function outboxJournalPath(settingsPath: string): string {
  const ext = extname(settingsPath);
  const stem = basename(settingsPath, ext);
  return join(dirname(settingsPath), `${stem}.crm-outbox.jsonl`);
}

interface Pending {
  line: string;
  resolve(): void;
  reject(err: unknown): void;
}

export class FileCrmOutboxStore extends CrmOutboxStore {
  private readonly logger = new Logger('CrmOutbox');
  private readonly calls = new Map<string, StoredCrmCall>();
  private fh: FileHandle | undefined;
  private readonly queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private journalLines = 0;
  private loaded: StoredCrmCall[] | null = null;
  private error: string | null = null;
  private opened = false;
  private closed = false;

  constructor(readonly path: string) {
    super();
  }

  async open(): Promise<void> {
    this.opened = true;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Nothing left by a previous run: the journal is made by the first write.
        this.loaded = [];
        return;
      }
      this.error = `cannot read the CRM outbox ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.logger.error(`${this.error}; saves are kept in memory only until it is fixed`);
      return;
    }
    let bad = 0;
    const lines = text.split('\n');
    lines.forEach((raw, i) => {
      if (raw.trim() === '') return;
      try {
        const rec = JSON.parse(raw) as { p?: unknown; d?: unknown };
        if (typeof rec.d === 'string') this.calls.delete(rec.d);
        else {
          const call = parseStoredCall(rec.p);
          this.calls.set(call.id, call);
        }
      } catch (err) {
        // The last line may be torn by a crash; any other bad line is reported, and skipped.
        const last = lines.slice(i + 1).every((l) => l.trim() === '');
        if (!last) bad += 1;
        if (!last)
          this.logger.warn(`${this.path} line ${i + 1} skipped: ${(err as Error).message}`);
      }
    });
    this.loaded = [...this.calls.values()];
    try {
      await this.compact();
    } catch (err) {
      this.fail(err);
      return;
    }
    const pending = this.loaded.reduce((n, c) => n + c.changes.length, 0);
    if (this.loaded.length > 0 || bad > 0) {
      this.logger.log(
        `CRM outbox ${this.path}: ${this.loaded.length} call(s), ${pending} change(s) to save${bad ? `, ${bad} bad line(s) skipped` : ''}`,
      );
    }
  }

  async takeOver(): Promise<StoredCrmCall[]> {
    const out = this.loaded ?? [];
    this.loaded = null;
    return out;
  }

  put(call: StoredCrmCall): Promise<void> {
    this.calls.set(call.id, call);
    return this.append(JSON.stringify({ p: call }));
  }

  remove(id: string): Promise<void> {
    if (!this.calls.delete(id)) return Promise.resolve();
    return this.append(JSON.stringify({ d: id }));
  }

  async inspect(id: string): Promise<InspectedCall | undefined> {
    const call = this.calls.get(id);
    return call ? { call, mine: true } : undefined;
  }

  readiness(): Readiness {
    if (!this.opened) return { ready: false, reason: 'CRM outbox not opened yet' };
    if (this.error) return { ready: false, reason: this.error };
    return { ready: true, reason: `file ${this.path}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  private append(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the CRM outbox is closed (shutting down)'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.writing ??= this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          if (this.journalLines > 1000 && this.journalLines > 4 * this.calls.size) {
            // Every call's latest state is in memory: the new file replaces the batch too.
            await this.compact();
          } else {
            if (!this.fh) this.fh = await this.openJournal();
            await this.fh.write(batch.map((p) => `${p.line}\n`).join(''));
            await this.fh.datasync();
            this.journalLines += batch.length;
          }
          if (this.error) this.logger.log(`CRM outbox ${this.path} is writable again`);
          this.error = null;
          for (const p of batch) p.resolve();
        } catch (err) {
          this.fail(err);
          for (const p of batch) p.reject(new Error(this.error ?? 'write failed'));
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /** Writes the live calls to a new journal and renames it over the old one. */
  private async compact(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const out = await open(tmp, 'w', 0o600);
    try {
      const text = [...this.calls.values()].map((c) => `${JSON.stringify({ p: c })}\n`).join('');
      await out.writeFile(text, 'utf8');
      await out.sync();
    } finally {
      await out.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    this.journalLines = this.calls.size;
    this.fh = await this.openJournal();
  }

  private async openJournal(): Promise<FileHandle> {
    await mkdir(dirname(this.path), { recursive: true });
    return open(this.path, 'a', 0o600);
  }

  private fail(err: unknown): void {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const msg = `cannot write the CRM outbox ${this.path}: ${why}`;
    if (msg !== this.error)
      this.logger.error(`${msg}; saves are kept in memory until it is writable`);
    this.error = msg;
    void this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
