/**
 * Owns attended transfers: the consultation calls by the Uniqueid of their far end
 * (`consultsByRemote`), starting one (Atxfer) and its far end ringing, answering, hanging up.
 * Written only here, with the call fields consult/primary. May not touch parking or queue state.
 */
import { CallDirection, CallState } from '@app/messaging';
import type { ChannelTable } from '../core/channel-table';
import type { LineCalls } from '../core/line-calls';
import { ChanState, type Chan, type TrackedCall, type TrackerSink } from '../core/tracker-model';

export class TransfersTracker {
  /** Consultation calls by the Uniqueid of their far end (its hang-up ends them). */
  readonly consultsByRemote = new Map<string, TrackedCall>();

  constructor(
    private readonly table: ChannelTable,
    private readonly calls: LineCalls,
    private readonly sink: TrackerSink,
  ) {
    calls.onForget((call) => this.forgotten(call));
  }

  private forgotten(call: TrackedCall): void {
    if (call.primary?.consult === call) call.primary.consult = undefined;
    if (call.primary && call.remote && this.consultsByRemote.get(call.remote) === call) {
      this.consultsByRemote.delete(call.remote);
    }
  }

  /** An Atxfer: the line's channel, its call held, is bridged with a third party. */
  startConsult(primary: TrackedCall, lineChan: Chan, far: Chan): void {
    const consult = this.calls.addCall(
      lineChan,
      CallDirection.OUT,
      primary.line,
      this.table.numberOf(far),
      far.uid,
    );
    consult.primary = primary;
    consult.remote = far.uid;
    this.consultsByRemote.set(far.uid, consult);
    primary.consult = consult;
    this.calls.transition(
      consult,
      far.state === ChanState.Up ? CallState.CONNECTED : CallState.ALERTING,
    );
    this.sink.notice({ kind: 'consult-started', primary, consult });
    this.calls.featuresChanged(primary);
  }

  /** A consultation's far end (Local half or a trunk) ringing or answering. */
  farEndState(ch: Chan): void {
    const consult = this.consultsByRemote.get(ch.uid);
    if (consult) {
      if (ch.state === ChanState.Ringing) this.calls.transition(consult, CallState.ALERTING);
      else if (ch.state === ChanState.Up) this.calls.transition(consult, CallState.CONNECTED);
    }
  }

  /** The far end of a consultation hung up: the consultation is over. */
  farEndGone(uid: string): void {
    const consult = this.consultsByRemote.get(uid);
    if (consult) this.calls.end(consult);
  }

  /** Forgets the consultations (the library is closing; their calls ended before). */
  clear(): void {
    this.consultsByRemote.clear();
  }
}
