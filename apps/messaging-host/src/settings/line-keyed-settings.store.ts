/**
 * Owns the one key under which a line's settings are kept and found: lineKey() of the channel
 * driver's comparison (chan_sip: `Office`, `OFFICE` and `office` are one line, one entry). Wraps
 * the configured store; every read and write goes through the same key.
 */
import { Logger } from '@nestjs/common';
import { lineKey, type LineNameCase, type Readiness } from '@app/messaging';
import {
  LineSettingsStore,
  type LineSettingsPatch,
  type StoredLineSettings,
} from './line-settings.store';

export class LineKeyedSettingsStore extends LineSettingsStore {
  constructor(
    private readonly inner: LineSettingsStore,
    private readonly lineCase: LineNameCase,
  ) {
    super();
  }

  /**
   * Warns about entries stored before keys were compared this way (their spelling is not their
   * key: they are not found under the line's key until renamed). Only stores that can list lines.
   */
  async checkStoredKeys(): Promise<void> {
    const lister = this.inner as { lineNames?(): Promise<string[]> };
    if (!lister.lineNames) return;
    const stray = (await lister.lineNames()).filter((l) => lineKey(l, this.lineCase) !== l);
    if (stray.length > 0) {
      new Logger('LineSettingsStore').warn(
        `settings stored under ${stray.map((l) => JSON.stringify(l)).join(', ')} are not found: line names are compared without regard to case here (chan_sip), and kept in lower case; store them again under the lower-case name`,
      );
    }
  }

  get(line: string): Promise<StoredLineSettings | undefined> {
    return this.inner.get(this.key(line));
  }
  put(line: string, settings: StoredLineSettings): Promise<StoredLineSettings> {
    return this.inner.put(this.key(line), settings);
  }
  patch(line: string, settings: LineSettingsPatch): Promise<StoredLineSettings> {
    return this.inner.patch(this.key(line), settings);
  }
  delete(line: string): Promise<boolean> {
    return this.inner.delete(this.key(line));
  }
  readiness(): Readiness {
    return this.inner.readiness();
  }
  override close(): Promise<void> {
    return this.inner.close();
  }

  private key(line: string): string {
    return lineKey(line, this.lineCase);
  }
}
