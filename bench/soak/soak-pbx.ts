/**
 * The soak's PBX: plays unique calls (soak-corpus instances) to the service over a FakeAmiServer,
 * each at its recorded pace, and reacts to the service's actions as Asterisk did in the trace: at
 * each recorded action (Originate, Park, Hangup, BlindTransfer, Atxfer, QueuePause) the call waits
 * until the service sends it, asked by the line's panel (MakeCall, HoldCall, DropCall ...) or on
 * its own (the auto-pause's QueuePause), then goes on with the recorded answers carrying the
 * service's ActionID. An action that does not come in time is counted, and the call goes on as if
 * someone else (the phone, another app) had done it.
 */
import type { AmiPacket } from '@app/ami';
import type { FakeAmiConnection, FakeAmiFields, FakeAmiServer } from '@app/ami/testing';
import { CONNECTED, HOLDED, type Panel } from './soak-panels';
import type { SoakInstance, SoakStep } from './soak-corpus';

export interface PbxStats {
  calls: number;
  finished: number;
  packets: number;
  events: number;
  /** Actions the service sent for a call, by name. */
  actionsSeen: Map<string, number>;
  /** Recorded actions that did not come in time, by `template:action`. */
  actionsMissed: Map<string, number>;
  /** Recorded actions no panel could ask for (away, or no such call on its line), by `template:action`. */
  actionsNoPanel: Map<string, number>;
  /** Recorded actions nobody on our side does (the far end's, or the recorder's): the PBX goes on. */
  actionsPbxSide: Map<string, number>;
  /** Actions of a call the recorded trace holds no answer to, answered at the call's end. */
  answeredLate: Map<string, number>;
  /** Actions matching no call (answered Success, or Error for Originate). */
  actionsStray: Map<string, number>;
}

export function newPbxStats(): PbxStats {
  return {
    calls: 0,
    finished: 0,
    packets: 0,
    events: 0,
    actionsSeen: new Map(),
    actionsMissed: new Map(),
    actionsNoPanel: new Map(),
    actionsPbxSide: new Map(),
    actionsStray: new Map(),
    answeredLate: new Map(),
  };
}

interface Waiter {
  lines: readonly string[];
  resolve: (a: AmiPacket | undefined) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** The operator line a channel or interface value names (`SIP/1234-...`, `SIP/1234`, `Local/1234@...`). */
function lineOfValue(v: string): string | undefined {
  return /^(?:SIP|Local)\/([0-9]+)(?:[-@]|$)/.exec(v)?.[1];
}

export class SoakPbx {
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(
    private readonly ami: FakeAmiServer,
    private readonly panels: ReadonlyMap<string, Panel>,
    private readonly stats: PbxStats,
    private readonly speed: number,
  ) {
    for (const name of ['Originate', 'Park', 'Hangup', 'BlindTransfer', 'Atxfer', 'QueuePause']) {
      ami.onAction(name, (a, conn) => this.onAction(name.toLowerCase(), a, conn));
    }
  }

  /** Plays one call to its end. */
  async play(inst: SoakInstance): Promise<void> {
    this.stats.calls += 1;
    const idMap = new Map<string, string>();
    /** The service's actions this call took, until the recorded answer went out under their id. */
    const unanswered = new Map<string, AmiPacket>();
    let baseReal = Date.now();
    let baseT = inst.steps[0]?.t ?? 0;
    for (const step of inst.steps) {
      if (step.kind === 'rx') {
        const due = baseReal + ((step.t - baseT) * 1000) / this.speed - Date.now();
        if (due > 1) await sleep(due);
        const answered = this.emit(step, idMap);
        if (answered !== undefined) unanswered.delete(answered);
        continue;
      }
      const lines = [inst.ids.lineA, inst.ids.lineB];
      const trigger = this.triggerFor(inst, step);
      const key = `${inst.template}:${step.action}`;
      const got = await this.await(step.action, lines, trigger, key);
      if (got) {
        bump(this.stats.actionsSeen, step.action);
        const id = got.actionId;
        if (id !== undefined) {
          idMap.set(step.actionId, id);
          unanswered.set(id, got);
        }
      }
      baseReal = Date.now();
      baseT = step.t;
    }
    // A recorded action whose answer the trace does not hold (the recorder's read ended first):
    // answered now, as Asterisk did, so that nothing waits in the service for it.
    for (const [id, a] of unanswered) {
      bump(this.stats.answeredLate, `${inst.template}:${(a.get('Action') ?? '').toLowerCase()}`);
      this.ami.broadcast(
        `Response: Success\r\nActionID: ${id}\r\nMessage: ${a.get('Action') ?? ''} done\r\n\r\n`,
      );
    }
    this.stats.finished += 1;
  }

  /** Sends a recorded packet under the service's ActionIDs; returns the id it answered, if a Response. */
  private emit(
    step: Extract<SoakStep, { kind: 'rx' }>,
    idMap: ReadonlyMap<string, string>,
  ): string | undefined {
    let text = step.text;
    let answered: string | undefined;
    if (idMap.size > 0) {
      text = text.replace(/^ActionID: ([^\r\n]*)/m, (m, id: string) => {
        const mapped = idMap.get(id);
        if (mapped === undefined) return m;
        if (!step.event) answered = mapped;
        return `ActionID: ${mapped}`;
      });
    }
    this.stats.packets += 1;
    if (step.event) this.stats.events += 1;
    this.ami.broadcast(text);
    return answered;
  }

  /** What makes the service send the recorded action: a panel's command, or nothing (the service's own). */
  private triggerFor(
    inst: SoakInstance,
    step: Extract<SoakStep, { kind: 'tx' }>,
  ): (() => boolean) | undefined {
    const f = step.fields;
    const lineOf = (key: string): string | undefined => lineOfValue(f.get(key) ?? '');
    const panel = (line: string | undefined): Panel | undefined =>
      line === undefined ? undefined : this.panels.get(line);
    switch (step.action) {
      case 'originate': {
        const p = panel(lineOf('channel'));
        if (!p) return undefined;
        if ((f.get('context') ?? '').startsWith('parkedcalls')) {
          return () => {
            const c = p.call(HOLDED);
            return c !== undefined && p.callCommand('HoldCall', c);
          };
        }
        return () => p.makeCall(f.get('exten') ?? '');
      }
      case 'park': {
        const p = panel(lineOf('timeoutchannel'));
        return p && (() => cmd(p, 'HoldCall', CONNECTED));
      }
      case 'blindtransfer': {
        const p = panel(lineOf('channel'));
        return (
          p && (() => cmd(p, 'BlindTransferCall', CONNECTED, { targetAddress: f.get('exten') }))
        );
      }
      case 'atxfer': {
        const p = panel(lineOf('channel'));
        return p && (() => cmd(p, 'MakeConsultCall', CONNECTED, { targetAddress: f.get('exten') }));
      }
      case 'hangup': {
        const p = panel(lineOf('channel'));
        if (!p) return undefined;
        return () => {
          // Two live calls on the line: the consultation of an attended transfer, completed.
          const live = [...p.calls.values()];
          if (live.length >= 2) {
            const primary = live.find((c) => c.state === HOLDED) ?? live[0]!;
            const consult = live.find((c) => c !== primary)!;
            return p.callCommand('TransferCall', primary, {
              consultationCall: JSON.stringify({ id: consult.id, state: consult.state }),
            });
          }
          const c = p.call(CONNECTED) ?? p.call();
          return c !== undefined && p.callCommand('DropCall', c);
        };
      }
      default:
        return undefined;
    }
    void inst;
  }

  /**
   * Waits for the service's `action` on one of `lines` after firing `trigger` (10 s), or for the
   * service's own (no trigger: 1.5 s); undefined when it did not come (counted under `key`).
   */
  private await(
    action: string,
    lines: readonly string[],
    trigger: (() => boolean) | undefined,
    key: string,
  ): Promise<AmiPacket | undefined> {
    return new Promise((resolve) => {
      let list = this.waiters.get(action);
      if (!list) this.waiters.set(action, (list = []));
      let why = trigger ? this.stats.actionsMissed : this.stats.actionsPbxSide;
      const w: Waiter = {
        lines,
        resolve: (a) => {
          clearTimeout(timer);
          const l = this.waiters.get(action)!;
          const i = l.indexOf(w);
          if (i < 0) return;
          l.splice(i, 1);
          if (!a) bump(why, key);
          resolve(a);
        },
      };
      let timer: NodeJS.Timeout | undefined;
      list.push(w);
      if (!trigger) {
        timer = setTimeout(() => w.resolve(undefined), 1500);
        return;
      }
      // The panel sees the call's last state a moment after the events left: retry until it does.
      const started = Date.now();
      const fire = (): void => {
        if (trigger()) {
          timer = setTimeout(() => w.resolve(undefined), 10_000);
        } else if (Date.now() - started > 3000) {
          // The panel is away (reconnecting) or has no such call: someone else does it.
          why = this.stats.actionsNoPanel;
          w.resolve(undefined);
        } else {
          timer = setTimeout(fire, 50);
        }
      };
      fire();
    });
  }

  private onAction(name: string, a: AmiPacket, conn: FakeAmiConnection): void {
    const lines = new Set<string>();
    for (let i = 0; i < a.keys.length; i++) {
      const l = lineOfValue(a.values[i] ?? '');
      if (l !== undefined) lines.add(l);
    }
    const w = this.waiters.get(name)?.find((x) => x.lines.some((l) => lines.has(l)));
    if (w) {
      // The call's next steps carry the recorded answer, under this ActionID.
      w.resolve(a);
      return;
    }
    bump(this.stats.actionsStray, name);
    if (name === 'originate') {
      conn.respond(a, { Response: 'Error', Message: 'Originate failed' });
    } else {
      conn.respond(a, { Message: `${a.get('Action') ?? name} accepted` });
    }
  }
}

/**
 * The `support` queue's static members as QueueStatus lists them (the f trace's QueueMember
 * items): every operator line, so that the idle service already knows them all.
 */
export function queueMembers(lines: readonly string[]): FakeAmiFields[] {
  return lines.map((line) => ({
    Event: 'QueueMember',
    Queue: 'support',
    Name: line,
    Location: `Local/${line}@from-queue/n`,
    StateInterface: `SIP/${line}`,
    Membership: 'static',
    Penalty: '0',
    CallsTaken: '0',
    LastCall: '0',
    LastPause: '0',
    LoginTime: '1795582027',
    InCall: '0',
    Status: '1',
    Paused: '0',
    PausedReason: '',
    Wrapuptime: '0',
  }));
}

function cmd(
  p: Panel,
  command: string,
  state: number,
  parameters: Record<string, unknown> = {},
): boolean {
  const c = p.call(state);
  return c !== undefined && p.callCommand(command, c, parameters);
}
