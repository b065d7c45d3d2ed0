import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import { observeAction, type AmiObserver } from './ami-observer';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';
import { encodeAction, type AmiActionFields, type AmiFieldValue, type AmiPacket } from './protocol';

/** Per-action options. */
export interface AmiActionOptions {
  /** Milliseconds to wait for the answer; default: the queue's (client's) actionTimeoutMs. */
  timeoutMs?: number;
  /** Aborting rejects the action with AmiErrorCode.Aborted (an answer that comes later is dropped). */
  signal?: AbortSignal;
}

export interface AmiOriginateOptions extends AmiActionOptions {
  /**
   * With `Async: true`, how long to wait for the OriginateResponse event after Asterisk queued the
   * call. Default: the action's `Timeout` field (ring time, 30000 when absent) plus timeoutMs.
   */
  originateTimeoutMs?: number;
}

/** What a list action (`EventList: start` ... `*Complete`) answers. */
export interface AmiListResult {
  response: AmiPacket;
  items: AmiPacket[];
  /** The `...Complete` event; the response itself when Asterisk sent no list. */
  complete: AmiPacket;
}

export interface AmiOriginateResult {
  response: AmiPacket;
  /** The OriginateResponse event (Response: Success or Failure); absent for a synchronous Originate. */
  originateResponse?: AmiPacket;
}

export interface AmiActionQueueOptions {
  /** Writes one encoded action to the connection; throwing fails the action with ConnectionClosed. */
  write(bytes: Buffer, action: string): void;
  /** Default timeout of an action. Default 10000 ms. */
  defaultTimeoutMs?: number;
  /** The most actions waiting for an answer at once; one more fails with QueueFull. Default 1000. */
  maxPending?: number;
  timers?: AmiTimers;
  /** Prepended to every ActionID (e.g. to tell two clients apart in a trace). Default ''. */
  idPrefix?: string;
  /**
   * An action got no answer at all within its timeout; `consecutive` counts such timeouts since
   * the peer last answered anything (the owner decides when a peer that answers nothing is deaf).
   */
  onNoAnswer?(consecutive: number, action: string): void;
  /** Told each action's outcome and latency (metrics). */
  observer?: AmiObserver;
}

type Kind = 'single' | 'list' | 'originate';

interface Pending {
  id: string;
  action: string;
  kind: Kind;
  /** Originate with Async: waits for OriginateResponse after the Response. */
  async: boolean;
  originateTimeoutMs: number;
  /** The action's own timeout: for the answer, and again after every list item. */
  timeoutMs: number;
  response?: AmiPacket;
  items: AmiPacket[];
  timer: AmiTimerHandle | undefined;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_PENDING = 1000;
const DEFAULT_ORIGINATE_RING_MS = 30_000;
/** ActionIDs given up on (timeout, abort) remembered so that their late answers are dropped. */
const MAX_ABANDONED = 1000;

/**
 * The ActionID action queue of one AMI connection (node-redis `commands-queue` style): every
 * action gets a unique ActionID, a place in a bounded map of pending actions, a timeout and an
 * optional AbortSignal; answers are routed by ActionID. `flushAll(err)` fails everything pending
 * when the connection drops, so no caller waits forever. No I/O of its own: `write` is injected.
 */
export class AmiActionQueue {
  private readonly pending = new Map<string, Pending>();
  /** Actions given up on (timeout, abort) whose answer may still come; oldest first, bounded. */
  private readonly abandoned = new Map<string, Pending>();
  private readonly timers: AmiTimers;
  private readonly defaultTimeoutMs: number;
  private readonly maxPending: number;
  private readonly idPrefix: string;
  private seq = 0;
  private endedWith: Error | undefined;
  /** Actions that got no answer at all, one after the other, since the peer last answered. */
  private silentTimeouts = 0;

  constructor(private readonly options: AmiActionQueueOptions) {
    this.timers = options.timers ?? realAmiTimers;
    this.defaultTimeoutMs = positive(options.defaultTimeoutMs) ?? DEFAULT_TIMEOUT_MS;
    this.maxPending = positive(options.maxPending) ?? DEFAULT_MAX_PENDING;
    this.idPrefix = options.idPrefix ?? '';
  }

  /** Actions waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Actions given up on whose late answer is still expected (bounded). */
  get abandonedSize(): number {
    return this.abandoned.size;
  }

  /** True after end(): every new action fails at once. */
  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  /** Sends an action; resolves with its Response (Success, Goodbye, Follows), rejects AmiActionError on Error. */
  send(fields: AmiActionFields, opts: AmiActionOptions = {}): Promise<AmiPacket> {
    return this.enqueue<AmiPacket>('single', fields, opts);
  }

  /** Sends a list action; resolves once its `EventList: Complete` event arrived. */
  sendList(fields: AmiActionFields, opts: AmiActionOptions = {}): Promise<AmiListResult> {
    return this.enqueue<AmiListResult>('list', fields, opts);
  }

  /** Sends an Originate; with `Async: true` it resolves once the OriginateResponse event arrived. */
  sendOriginate(
    fields: AmiActionFields,
    opts: AmiOriginateOptions = {},
  ): Promise<AmiOriginateResult> {
    return this.enqueue<AmiOriginateResult>('originate', fields, opts);
  }

  /**
   * Routes a packet from the connection. Returns true when the packet belongs to a pending
   * action and is not an event for anyone else (responses, list items, list completes). An
   * OriginateResponse settles its Originate but returns false: Asterisk broadcasts it.
   */
  handle(packet: AmiPacket): boolean {
    const id = packet.actionId;
    if (id === undefined) return false;
    const p = this.pending.get(id);
    if (!p) return this.handleAbandoned(id, packet);
    this.silentTimeouts = 0;
    if (packet.response !== undefined && packet.event === undefined) {
      this.onResponse(p, packet);
      return true;
    }
    const event = packet.event;
    if (event === undefined) return false;
    if (p.kind === 'list') {
      if (isListComplete(packet)) {
        this.settle(p);
        p.resolve({
          response: p.response ?? packet,
          items: p.items,
          complete: packet,
        } satisfies AmiListResult);
      } else {
        p.items.push(packet);
        // A long list is alive while items come: the timeout counts from the last one.
        this.arm(p, p.timeoutMs, 'further list item');
      }
      return true;
    }
    if (p.kind === 'originate' && event.toLowerCase() === 'originateresponse') {
      this.settle(p);
      if (p.response) {
        p.resolve({ response: p.response, originateResponse: packet } satisfies AmiOriginateResult);
      } else {
        // The event before the Response: not seen from Asterisk, but be robust.
        p.resolve({ response: packet, originateResponse: packet } satisfies AmiOriginateResult);
      }
      return false;
    }
    return false;
  }

  /** Fails every pending action with `error` (the connection dropped); the queue stays usable. */
  flushAll(error: Error): void {
    this.abandoned.clear();
    const all = [...this.pending.values()];
    for (const p of all) {
      this.settle(p);
      p.reject(error);
    }
  }

  /** flushAll(error), then refuses every later action with the same error. */
  end(error: Error): void {
    this.endedWith ??= error;
    this.flushAll(error);
  }

  private enqueue<T>(kind: Kind, fields: AmiActionFields, opts: AmiOriginateOptions): Promise<T> {
    const result = this.enqueueNow<T>(kind, fields, opts);
    return observeAction(this.options.observer, String(fields.Action ?? ''), result);
  }

  private enqueueNow<T>(
    kind: Kind,
    fields: AmiActionFields,
    opts: AmiOriginateOptions,
  ): Promise<T> {
    const action = String(fields.Action ?? '');
    if (this.endedWith) return Promise.reject(this.endedWith);
    if (opts.signal?.aborted) return Promise.reject(abortedError(action, opts.signal));
    if (this.pending.size >= this.maxPending) {
      return Promise.reject(
        new AmiError(
          AmiErrorCode.QueueFull,
          `AMI action ${action} refused: ${this.pending.size} actions already wait for an answer (maxPendingActions ${this.maxPending})`,
        ),
      );
    }
    const id = this.nextId(action);
    let bytes: Buffer;
    try {
      // The caller's ActionID, if any, is replaced: answers are routed by ours.
      bytes = encodeAction({ Action: action, ActionID: id, ...otherFields(fields) });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const timeoutMs = positive(opts.timeoutMs) ?? this.defaultTimeoutMs;
    const async = kind === 'originate' && isAmiTrue(fields['Async']);
    const ring = Number(fields['Timeout']);
    const originateTimeoutMs =
      positive(opts.originateTimeoutMs) ??
      (Number.isFinite(ring) && ring > 0 ? ring : DEFAULT_ORIGINATE_RING_MS) + timeoutMs;

    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        id,
        action,
        kind,
        async,
        originateTimeoutMs,
        timeoutMs,
        items: [],
        timer: undefined,
        signal: opts.signal,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      this.pending.set(id, p);
      this.arm(p, timeoutMs, 'answer');
      if (opts.signal) {
        const signal = opts.signal;
        p.onAbort = () => {
          if (this.pending.get(id) !== p) return;
          this.settle(p);
          this.abandon(p);
          p.reject(abortedError(action, signal));
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      try {
        this.options.write(bytes, action);
      } catch (err) {
        if (this.pending.get(id) === p) {
          this.settle(p);
          p.reject(
            err instanceof AmiError
              ? err
              : new AmiError(
                  AmiErrorCode.ConnectionClosed,
                  `AMI action ${action} not sent: the connection is closed`,
                  {
                    cause: err,
                  },
                ),
          );
        }
      }
    });
  }

  private onResponse(p: Pending, packet: AmiPacket): void {
    const r = (packet.response ?? '').toLowerCase();
    if (r === 'error' || r === 'fail' || r === 'failure') {
      this.settle(p);
      p.reject(new AmiActionError(p.action, packet));
      return;
    }
    p.response = packet;
    if (p.kind === 'single') {
      this.settle(p);
      p.resolve(packet);
    } else if (p.kind === 'list') {
      if ((packet.get('EventList') ?? '').toLowerCase() !== 'start') {
        // No list follows (an action that answers in its response alone).
        this.settle(p);
        p.resolve({ response: packet, items: p.items, complete: packet } satisfies AmiListResult);
      }
    } else if (!p.async) {
      this.settle(p);
      p.resolve({ response: packet } satisfies AmiOriginateResult);
    } else {
      // Queued: now wait for OriginateResponse, as long as the phone may ring.
      this.arm(p, p.originateTimeoutMs, 'OriginateResponse');
    }
  }

  /** (Re)starts p's timer; `what` is what it waits for: 'answer', 'further list item', 'OriginateResponse'. */
  private arm(p: Pending, ms: number, what: string): void {
    if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
    p.timer = this.timers.setTimeout(() => {
      if (this.pending.get(p.id) !== p) return;
      this.settle(p);
      this.abandon(p);
      p.reject(
        new AmiError(
          AmiErrorCode.Timeout,
          `AMI action ${p.action} (ActionID ${p.id}): no ${what} within ${ms} ms`,
        ),
      );
      // Only an action nothing at all came back for says the peer may not listen.
      if (what === 'answer') {
        this.silentTimeouts += 1;
        this.options.onNoAnswer?.(this.silentTimeouts, p.action);
      }
    }, ms);
  }

  /**
   * A packet for an action given up on (timeout, abort): its response, list items and list
   * complete are dropped (true), so they never pass for broadcast events; the id is forgotten
   * once nothing more can come for it. An OriginateResponse is a broadcast event (false).
   */
  private handleAbandoned(id: string, packet: AmiPacket): boolean {
    const p = this.abandoned.get(id);
    if (!p) return false;
    // A late answer: the peer is slow, not deaf.
    this.silentTimeouts = 0;
    const event = packet.event;
    if (event === undefined) {
      const listFollows = (packet.get('EventList') ?? '').toLowerCase() === 'start';
      const originateFollows =
        p.kind === 'originate' && p.async && (packet.response ?? '').toLowerCase() === 'success';
      if (!listFollows && !originateFollows) this.abandoned.delete(id);
      return true;
    }
    if (event.toLowerCase() === 'originateresponse') {
      this.abandoned.delete(id);
      return false;
    }
    if (isListComplete(packet)) this.abandoned.delete(id);
    return true;
  }

  private abandon(p: Pending): void {
    this.abandoned.set(p.id, p);
    if (this.abandoned.size > MAX_ABANDONED) {
      const oldest = this.abandoned.keys().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
  }

  /** Removes the action from the queue and releases its timer and abort listener. */
  private settle(p: Pending): void {
    this.pending.delete(p.id);
    if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
    p.timer = undefined;
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
  }

  private nextId(action: string): string {
    this.seq += 1;
    const name = action.toLowerCase().replace(/[^a-z0-9]/g, '') || 'action';
    return `${this.idPrefix}${name}-${this.seq}`;
  }
}

/** The fields after Action and ActionID (those two go first, as Asterisk's own tools send them). */
function otherFields(fields: AmiActionFields): Record<string, AmiFieldValue> {
  const out: Record<string, AmiFieldValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    const key = k.toLowerCase();
    if (key !== 'actionid' && key !== 'action') out[k] = v;
  }
  return out;
}

function isListComplete(packet: AmiPacket): boolean {
  const list = (packet.get('EventList') ?? '').toLowerCase();
  if (list === 'complete' || list === 'cancelled') return true;
  return list === '' && (packet.event ?? '').endsWith('Complete');
}

/** An AMI boolean header value as Asterisk reads it (ast_true): true, yes, 1, on, y, t. */
export function isAmiTrue(v: unknown): boolean {
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v !== 'string') return false;
  return ['true', 'yes', '1', 'on', 'y', 't'].includes(v.trim().toLowerCase());
}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function abortedError(action: string, signal: AbortSignal): AmiError {
  return new AmiError(AmiErrorCode.Aborted, `AMI action ${action} aborted`, {
    cause: signal.reason,
  });
}
