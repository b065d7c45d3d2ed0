// The line sessions the event stream holds: one per watched line, shared by every reader of that
// line (and by the discovery of the all-lines fallback), in debug mode while a reader wants RAW.
import type { Logger } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { LineEvent, LineSession, MessagingLibrary } from '@app/messaging';

interface Watch {
  session: LineSession;
  subscription: Subscription;
  users: number;
  rawUsers: number;
}

export class LineWatches {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly deliver: (event: LineEvent) => void,
    private readonly logger: Logger,
  ) {}

  has(line: string): boolean {
    return this.watches.has(line);
  }

  lines(): string[] {
    return [...this.watches.keys()];
  }

  /** Watches `line` (opening its session on first use). Throws the library's error on a bad line. */
  acquire(library: MessagingLibrary, line: string, raw: boolean): void {
    let w = this.watches.get(line);
    if (!w) {
      const session = library.openLine(line, { debugMode: raw });
      const subscription = session.events$.subscribe({
        next: (e) => this.deliver(e),
        error: (err: unknown) =>
          this.logger.error(
            `line ${line}: the library's event stream failed: ${err instanceof Error ? err.message : String(err)}`,
          ),
      });
      w = { session, subscription, users: 0, rawUsers: 0 };
      this.watches.set(line, w);
    } else if (raw && w.rawUsers === 0) {
      w.session.updateSettings({ debugMode: true });
    }
    w.users += 1;
    if (raw) w.rawUsers += 1;
  }

  /** Stops watching for one user; the session closes with its last user. */
  release(line: string, raw: boolean): void {
    const w = this.watches.get(line);
    if (!w) return;
    w.users -= 1;
    if (raw) {
      w.rawUsers -= 1;
      if (w.rawUsers === 0 && w.users > 0) w.session.updateSettings({ debugMode: false });
    }
    if (w.users > 0) return;
    this.watches.delete(line);
    w.subscription.unsubscribe();
    w.session.close();
  }

  closeAll(): void {
    for (const w of this.watches.values()) {
      w.subscription.unsubscribe();
      w.session.close();
    }
    this.watches.clear();
  }
}
