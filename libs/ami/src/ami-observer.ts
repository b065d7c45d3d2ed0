// The instrumentation seam of libs/ami: what an owner may watch of a client (metrics, diagnostics)
// without the library knowing about either. Every hook is optional, runs synchronously on the hot
// path, and must neither throw nor keep the packet beyond the call.
import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiPacket } from './protocol';

/** How an action ended: Asterisk's answer, or why there was none. */
export type AmiActionOutcome =
  'success' | 'error' | 'timeout' | 'disconnected' | 'aborted' | 'refused';

/** The client's state as an observer sees it (a subset of AmiStatus, to keep this file standalone). */
export interface AmiObservedStatus {
  state: string;
  reason?: string;
  serverVersion?: string;
  since: number;
}

export interface AmiObserver {
  /**
   * Bytes from Asterisk are being handled (one socket read, or one replayed packet coming due):
   * every packet decoded and delivered before `readDone` comes from them, synchronously.
   */
  readStart?(): void;
  readDone?(): void;
  /** A broadcast event, just before the client's subscribers see it. */
  event?(packet: AmiPacket): void;
  /** An action got its outcome, `ms` after it was handed to the client. */
  action?(name: string, outcome: AmiActionOutcome, ms: number): void;
  /** The decoder refused the stream (a protocol error; the connection is reset). */
  decodeError?(error: AmiError): void;
  /** A reconnection attempt starts (after a failed or lost connection); `attempt` counts from 1. */
  reconnecting?(attempt: number): void;
  /** The client's state changed. */
  status?(status: AmiObservedStatus): void;
}

/** The outcome an action's rejection stands for. */
export function actionOutcome(err: unknown): AmiActionOutcome {
  if (err instanceof AmiActionError) return 'error';
  if (err instanceof AmiError) {
    switch (err.code) {
      case AmiErrorCode.Timeout:
        return 'timeout';
      case AmiErrorCode.Aborted:
        return 'aborted';
      case AmiErrorCode.ConnectionClosed:
      case AmiErrorCode.Closed:
        return 'disconnected';
      default:
        return 'refused';
    }
  }
  return 'refused';
}

/** Reports `result`'s outcome to `observer` (the caller's promise is returned untouched). */
export function observeAction<T>(
  observer: AmiObserver | undefined,
  name: string,
  result: Promise<T>,
  now: () => number = () => performance.now(),
): Promise<T> {
  const hook = observer?.action;
  if (!hook) return result;
  const started = now();
  const report = (outcome: AmiActionOutcome): void => {
    try {
      hook.call(observer, name, outcome, now() - started);
    } catch {
      // An observer's failure must never change what the caller gets.
      return;
    }
  };
  result.then(
    () => report('success'),
    (err: unknown) => report(actionOutcome(err)),
  );
  return result;
}
