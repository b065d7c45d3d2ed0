/**
 * The lines whose calls this node saves, each with the recorder's own library session: opened when
 * a panel binds the line here, kept while calls it started saving go on (so no end is lost when the
 * panel leaves), closed when neither holds it. Only the recorder writes these.
 */
import type { Logger } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { LineEvent, LineSession, MessagingLibrary } from '@app/messaging';
import type { CrmTarget } from './crm-target';

/** A line this node watches to save its calls. */
export interface LineWatch {
  readonly line: string;
  session: LineSession | undefined;
  sub: Subscription | undefined;
  /** A panel holds the line on this node now. */
  bound: boolean;
  /** Where new calls of the line are saved (from the binding's ServiceUrl), or why not. */
  target: CrmTarget;
  /** The operator's contact (a GUID) from the binding. */
  contact: string | undefined;
  /** Calls of the line this node is saving that have not ended. */
  readonly active: Set<string>;
}

export class CrmLineWatches {
  private readonly watches = new Map<string, LineWatch>();

  constructor(
    private readonly onEvent: (w: LineWatch, e: LineEvent) => void,
    private readonly logger: Pick<Logger, 'error'>,
  ) {}

  get(line: string): LineWatch | undefined {
    return this.watches.get(line);
  }

  /** The line's watch, made (without a session) when there is none. */
  watch(line: string): LineWatch {
    let w = this.watches.get(line);
    if (!w) {
      w = {
        line,
        session: undefined,
        sub: undefined,
        bound: false,
        target: { off: 'no panel holds the line on this node' },
        contact: undefined,
        active: new Set(),
      };
      this.watches.set(line, w);
    }
    return w;
  }

  /** Opens the recorder's own session on the line, if it has none. */
  ensureSession(w: LineWatch, library: MessagingLibrary): void {
    if (w.session) return;
    try {
      w.session = library.openLine(w.line);
    } catch (err) {
      this.logger.error(`line ${w.line}: cannot watch its calls: ${(err as Error).message}`);
      return;
    }
    w.sub = w.session.events$.subscribe({
      next: (e) => {
        try {
          this.onEvent(w, e);
        } catch (err) {
          this.logger.error(`line ${w.line}: recording a call event failed: ${String(err)}`);
        }
      },
    });
  }

  /** Lets the line go when no panel holds it and no call of it is being saved. */
  release(w: LineWatch): void {
    if (w.bound || w.active.size > 0) return;
    this.close(w);
    this.watches.delete(w.line);
  }

  closeAll(): void {
    for (const w of this.watches.values()) this.close(w);
    this.watches.clear();
  }

  private close(w: LineWatch): void {
    w.sub?.unsubscribe();
    w.session?.close();
    w.sub = undefined;
    w.session = undefined;
  }
}
