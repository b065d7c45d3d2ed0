/**
 * Owns the Originate commands: MakeCall, sending an Originate of a line's device, and waiting for
 * its OriginateResponse (`originateResponses`: the ones that came before their action's answer,
 * kept only while an async Originate of ours waits for its answer; written only here). May not
 * touch the tracker's state: only the CommandKit's queries.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { AmiPacket, type AmiActionFields } from '@app/ami';
import {
  MessagingCommandError,
  MessagingErrorCode,
  type Call,
  type LineSettings,
  type MakeCallOptions,
} from '@app/messaging';
import { autoAnswerVariables } from '../core/answer-mode';
import type { CommandKit } from '../core/command-kit';
import { ownString } from '../core/own-string';
import type { TrackedCall, TrackerNotice } from '../core/tracker-model';

/** OriginateResponse Reason codes (Asterisk's AST_CONTROL_*). */
const ORIGINATE_REASONS: Record<string, string> = {
  '0': 'the call could not be set up (no such number, or the line is unreachable)',
  '1': 'hung up before answering',
  '3': 'not answered',
  '5': 'busy',
  '8': 'congestion',
};

/** An early OriginateResponse is dropped after this even if an Originate of ours still waits. */
const EARLY_RESPONSE_MS = 60_000;

export class OriginateCommands {
  /**
   * OriginateResponses by ActionID that arrived before their action's answer was handled (copies:
   * not slices of the socket read), with when they came. Empty whenever no async Originate of ours
   * waits for its answer: the responses of other applications' Originates are not kept.
   */
  private readonly originateResponses = new Map<string, { packet: AmiPacket; at: number }>();
  /** Async Originates sent whose early OriginateResponse has not been looked for yet. */
  private waiting = 0;

  constructor(private readonly kit: CommandKit) {}

  /** The Originate of the line's device into `context`/`exten` (ring time and Async per the options). */
  originateFields(line: string, context: string, exten: string, callerId: string): AmiActionFields {
    return {
      Action: 'Originate',
      Channel: `${this.kit.options.protocol}${line}`,
      Context: context,
      Exten: exten,
      Priority: '1',
      CallerID: callerId,
      Timeout: String(this.kit.options.originateTimeoutMs ?? 30_000),
      Async: this.kit.options.asyncOriginate ? 'true' : 'false',
    };
  }

  /**
   * Keeps an OriginateResponse that may belong to an async Originate of ours whose answer has not
   * been handled yet (it can come in the same read, before the answer's promise settles).
   */
  noteResponse(n: Extract<TrackerNotice, { kind: 'originate-response' }>): void {
    if (this.waiting === 0) return;
    const now = Date.now();
    for (const [id, e] of this.originateResponses) {
      if (now - e.at < EARLY_RESPONSE_MS && this.originateResponses.size < 1000) break;
      this.originateResponses.delete(id);
    }
    const p = n.packet as AmiPacket;
    this.originateResponses.set(ownString(n.actionId), {
      packet: new AmiPacket(p.keys.map(ownString), p.values.map(ownString)),
      at: now,
    });
  }

  /** Early OriginateResponses kept now (memory checks: 0 when no Originate of ours waits). */
  get earlyResponses(): number {
    return this.originateResponses.size;
  }

  /**
   * An Originate of the line's device: resolves with the action's answer; the outcome comes later.
   * After an async one is answered, its caller must call originateOutcome() with the answer's id.
   */
  async sendOriginate(fields: AmiActionFields): Promise<AmiPacket> {
    const ring = this.kit.options.originateTimeoutMs ?? 30_000;
    const sync = String(fields['Async']) !== 'true';
    if (sync) return this.kit.act(fields, ring + (this.kit.options.ami.actionTimeoutMs ?? 10_000));
    this.waiting += 1;
    try {
      return await this.kit.act(fields);
    } catch (err) {
      this.settled(undefined);
      throw err;
    }
  }

  /** An async Originate's early response was looked for (or none can come): forget what is kept for it. */
  private settled(actionId: string | undefined): void {
    if (actionId !== undefined) this.originateResponses.delete(actionId);
    this.waiting = Math.max(0, this.waiting - 1);
    if (this.waiting === 0) this.originateResponses.clear();
  }

  /**
   * The OriginateResponse of an async Originate (by its answer's ActionID); undefined when none
   * can come any more: the connection dropped, or the ring time and the command timeout passed.
   */
  originateOutcome(actionIdIn: string | undefined): Promise<AmiPacket | undefined> {
    const early = actionIdIn ? this.originateResponses.get(actionIdIn)?.packet : undefined;
    this.settled(actionIdIn);
    if (early) return Promise.resolve(early);
    // Kept in the subscription below for up to the ring time: a copy, not a slice of the read.
    const actionId = actionIdIn === undefined ? undefined : ownString(actionIdIn);
    return new Promise<AmiPacket | undefined>((resolve) => {
      const subs: Subscription[] = [];
      let finished = false;
      const done = (p: AmiPacket | undefined): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const x of subs) x.unsubscribe();
        resolve(p);
      };
      const timer = setTimeout(
        () => done(undefined),
        (this.kit.options.originateTimeoutMs ?? 30_000) +
          (this.kit.options.commandTimeoutMs ?? 10_000),
      );
      subs.push(
        this.kit.notices.subscribe((n) => {
          if (n.kind === 'originate-response' && n.actionId === actionId) {
            done(n.packet as AmiPacket);
          }
        }),
      );
      subs.push(
        this.kit.readiness$.subscribe((r) => {
          if (!r.ready) done(undefined);
        }),
      );
      // A subscription added after done() ran (synchronously) must not stay.
      if (finished) for (const x of subs) x.unsubscribe();
    });
  }

  failureOf(p: AmiPacket, target: string): MessagingCommandError {
    const reason = p.get('Reason') ?? '0';
    return new MessagingCommandError(
      MessagingErrorCode.OriginateFailed,
      `call to ${target} failed: ${ORIGINATE_REASONS[reason] ?? `reason ${reason}`}`,
      `Reason ${reason}`,
    );
  }

  async makeCall(
    line: string,
    settings: LineSettings,
    targetIn: string,
    opts: MakeCallOptions = {},
  ): Promise<Call> {
    // The number as the operator sees it (separators gone), and the Exten the dial rule makes of it.
    const { number: target, exten } = this.kit.dialTarget(targetIn);
    const context = this.kit.context(settings, opts.context);
    if (opts.callerId !== undefined && /[\r\n]/.test(opts.callerId)) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidArgument,
        'callerId must be one line',
      );
    }
    const vars: string[] = [];
    for (const [k, v] of Object.entries(opts.variables ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || /[\r\n]/.test(String(v))) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidArgument,
          `variable '${k.slice(0, 64)}' is not NAME=one-line value`,
        );
      }
      vars.push(`${k}=${String(v)}`);
    }
    this.kit.requireReady();
    if (this.kit.client.replaying) {
      throw new MessagingCommandError(
        MessagingErrorCode.NotImplemented,
        'replay mode (asterisk.filePath): actions are logged, not sent; no call can be made',
      );
    }
    const token = `makecall-${randomUUID()}`;
    // The call as it showed (RING_STARTED): what MakeCall answers, even if it moved on since.
    let shownAs: Call | undefined;
    let bound: ((c: TrackedCall) => void) | undefined;
    const boundCall = new Promise<TrackedCall>((resolve) => (bound = resolve));
    this.kit.tracker.expectOriginate({
      actionId: token,
      line,
      kind: 'call',
      target,
      bound: (c) => {
        shownAs = this.kit.tracker.toCall(c);
        bound!(c);
      },
    });
    const fields = this.originateFields(
      line,
      context,
      exten,
      opts.callerId ?? `"${target}" <${target}>`,
    );
    // answerMode header: the phone answers the click-to-call by itself.
    if (this.kit.options.answer)
      vars.push(...autoAnswerVariables(this.kit.options.answer, this.kit.options.protocol));
    if (vars.length) fields['Variable'] = vars;
    const failed = (why: MessagingCommandError): MessagingCommandError =>
      why.code === MessagingErrorCode.ActionFailed
        ? new MessagingCommandError(
            MessagingErrorCode.OriginateFailed,
            `call to ${target} failed: ${why.detail ?? why.message}`,
            why.detail,
            { cause: why },
          )
        : why;
    /** After Asterisk said the call is up: the call must have shown by now, or soon. */
    const shownSoon = async (): Promise<TrackedCall> => {
      const ms = this.kit.options.commandTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.kit.tracker.dropOriginate(token);
          reject(
            new MessagingCommandError(
              MessagingErrorCode.ActionFailed,
              `Asterisk accepted the call to ${target} but no channel of line ${line} rang within ${ms} ms`,
            ),
          );
        }, ms);
      });
      try {
        return await Promise.race([boundCall, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    const sent = this.sendOriginate(fields);
    if (!this.kit.options.asyncOriginate) {
      // Synchronous: Asterisk answers once the phone answered (or failed); the call shows before.
      const first = await Promise.race([
        boundCall.then((c) => ({ c })),
        sent.then(
          () => ({ ok: true as const }),
          (e: unknown) => ({ e }),
        ),
      ]);
      if ('e' in first) {
        this.kit.tracker.dropOriginate(token);
        throw failed(this.kit.commandError('Originate', first.e));
      }
      const call = 'c' in first ? first.c : await shownSoon();
      sent.catch((err: unknown) => {
        this.kit.lineError(line, failed(this.kit.commandError('Originate', err)), call.id);
        this.kit.tracker.endCall(call);
      });
      return shownAs ?? this.kit.tracker.toCall(call);
    }
    let response: AmiPacket;
    try {
      response = await sent;
    } catch (err) {
      this.kit.tracker.dropOriginate(token);
      throw this.kit.commandError('Originate', err);
    }
    const outcome = this.originateOutcome(response.actionId);
    const first = await Promise.race([
      boundCall.then((c) => ({ c })),
      outcome.then((p) => ({ p })),
    ]);
    if ('p' in first && first.p === undefined) {
      this.kit.tracker.dropOriginate(token);
      throw this.kit.client.isReady
        ? new MessagingCommandError(
            MessagingErrorCode.ActionFailed,
            `Asterisk did not report the outcome of the call to ${target}`,
          )
        : new MessagingCommandError(
            MessagingErrorCode.NotConnected,
            `the connection to Asterisk was lost while calling ${target}`,
          );
    }
    if ('p' in first && first.p && first.p.get('Response') !== 'Success') {
      this.kit.tracker.dropOriginate(token);
      throw this.failureOf(first.p, target);
    }
    const call = 'c' in first ? first.c : await shownSoon();
    void outcome.then((p) => {
      if (p && p.get('Response') !== 'Success')
        this.kit.lineError(line, this.failureOf(p, target), call.id);
    });
    return shownAs ?? this.kit.tracker.toCall(call);
  }
}
