import { Injectable } from '@nestjs/common';

/** Set once a termination signal arrives: readiness answers 503 from that moment on. */
@Injectable()
export class ShutdownState {
  private reason: string | null = null;

  begin(reason: string): void {
    this.reason ??= reason;
  }

  get shuttingDown(): boolean {
    return this.reason !== null;
  }

  get why(): string | null {
    return this.reason;
  }
}
