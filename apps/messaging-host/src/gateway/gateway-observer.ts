// What the gateway reports of its work (commands, frames, fan-out, dropped clients) to whoever
// watches it (the metrics module provides one); the gateway knows nothing of metrics.
import type { MsgEventType } from '@app/messaging';

export interface GatewayObserver {
  /** A client command finished: `command` is a protocol command name or 'unknown'; `result` 'ok' or an error code. */
  commandDone(command: string, result: string): void;
  /** One event envelope was written to a client socket. */
  eventSent(eventType: MsgEventType): void;
  /** A line event was written to every socket of its line. */
  lineEventFannedOut(): void;
  /** The server dropped a client: 'slow' (send buffer over server.maxBufferedBytes) or 'silent' (heartbeat). */
  clientDropped(reason: 'slow' | 'silent'): void;
}

/** The injection token of the gateway's observer (optional: without one nothing is reported). */
export const GATEWAY_OBSERVER = Symbol('messaging-host:gateway-observer');
