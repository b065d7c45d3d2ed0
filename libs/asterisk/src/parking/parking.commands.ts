/**
 * Owns HoldCall: parking a connected call (Park) and taking a parked one back (an Originate into
 * the parking lot context), and the toggles running now (`holding`, written only here).
 * May not touch the tracker's state: only the CommandKit's queries.
 */
import { randomUUID } from 'node:crypto';
import type { AmiPacket } from '@app/ami';
import {
  CallDirection,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  type HoldResult,
  type LineSettings,
} from '@app/messaging';
import type { CommandKit } from '../core/command-kit';
import type { TrackedCall } from '../core/tracker-model';
import type { OriginateCommands } from '../originate/originate.commands';

export class ParkingCommands {
  /** HoldCall toggles running now, by call. */
  private readonly holding = new Map<TrackedCall, Promise<HoldResult>>();

  constructor(
    private readonly kit: CommandKit,
    private readonly originate: OriginateCommands,
  ) {}

  /** HoldCall toggles running now (memory checks). */
  get running(): number {
    return this.holding.size;
  }

  async holdCall(line: string, settings: LineSettings, callId: string): Promise<HoldResult> {
    const c = this.kit.own(line, callId);
    // A second toggle while one runs (a double click) gets the same answer, not a second action.
    const running = this.holding.get(c);
    if (running) return running;
    const run = this.toggleHold(line, settings, c);
    this.holding.set(c, run);
    try {
      return await run;
    } finally {
      if (this.holding.get(c) === run) this.holding.delete(c);
    }
  }

  private async toggleHold(
    line: string,
    settings: LineSettings,
    c: TrackedCall,
  ): Promise<HoldResult> {
    this.kit.requireReady();
    if (c.consult && !c.consult.ended) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the call is the primary of a consultation: use TransferCall or CancelTransfer',
      );
    }
    if (c.state === CallState.CONNECTED) {
      const remote = this.kit.chanName(c.remote);
      const mine = this.kit.chanName(c.channel);
      if (!remote || !mine || c.primary) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidState,
          'the call has no remote party to park',
        );
      }
      const parked = this.kit.waitNotice(
        (n) => (n.kind === 'parked' && n.call === c ? n.space : undefined),
        'the parked call',
        c,
      );
      parked.catch(() => undefined);
      await this.kit.act({ Action: 'Park', Channel: remote, TimeoutChannel: mine });
      const space = await parked;
      return { call: this.kit.tracker.toCall(c), parkingSpace: space };
    }
    if (c.state === CallState.HOLDED && c.hold === 'park' && c.parkingSpace) {
      if (c.retrieval || this.kit.tracker.unparkPending(c.id))
        return { call: this.kit.tracker.toCall(c), parkingSpace: c.parkingSpace };
      const space = c.parkingSpace;
      const ctx = settings.parkingLotContext ?? this.kit.options.parkingLotContext;
      if (!/^[A-Za-z0-9_.-]{1,80}$/.test(ctx)) {
        throw new MessagingCommandError(
          MessagingErrorCode.InvalidArgument,
          `parkingLotContext '${ctx.slice(0, 80)}' is not a dialplan context name`,
        );
      }
      const token = `unpark-${randomUUID()}`;
      this.kit.tracker.expectOriginate({
        actionId: token,
        line,
        kind: 'unpark',
        target: space,
        callId: c.id,
      });
      const who = c.direction === CallDirection.IN ? c.callerId : c.calledId;
      const fields = this.originate.originateFields(
        line,
        ctx,
        space,
        `"${(who || 'Parked').replace(/"/g, '')}" <${space}>`,
      );
      if (!this.kit.options.asyncOriginate) {
        // Synchronous: Asterisk answers once the phone answered; a failure comes as an event.
        this.originate.sendOriginate(fields).catch((err: unknown) => {
          this.kit.tracker.dropOriginate(token);
          const e = this.kit.commandError('Originate', err);
          this.kit.lineError(
            line,
            new MessagingCommandError(MessagingErrorCode.OriginateFailed, e.message, e.detail),
            c.id,
          );
        });
        return { call: this.kit.tracker.toCall(c), parkingSpace: space };
      }
      let response: AmiPacket;
      try {
        response = await this.originate.sendOriginate(fields);
      } catch (err) {
        this.kit.tracker.dropOriginate(token);
        throw this.kit.commandError('Originate', err);
      }
      void this.originate.originateOutcome(response.actionId).then((p) => {
        if (p && p.get('Response') === 'Success') return;
        // Failed, or no outcome will come: the line's next ring is not this take-back.
        this.kit.tracker.dropOriginate(token);
        if (p && !c.ended)
          this.kit.lineError(line, this.originate.failureOf(p, `parking space ${space}`), c.id);
      });
      return { call: this.kit.tracker.toCall(c), parkingSpace: space };
    }
    if (c.state === CallState.HOLDED) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        'the call is held on the phone: take it back on the phone',
      );
    }
    throw new MessagingCommandError(
      MessagingErrorCode.InvalidState,
      `a ${CallState[c.state]} call cannot be held`,
    );
  }
}
