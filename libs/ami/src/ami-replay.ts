import { AmiError, AmiErrorCode } from './ami.errors';
import { silentAmiLogger, type AmiLogger } from './ami-logger';
import { loadScenarioFile, type AmiScenarioRecord } from './ami-scenario';
import { realAmiTimers, type AmiTimerHandle, type AmiTimers } from './ami-timers';
import { AmiDecoder, type AmiActionFields, type AmiPacket } from './protocol';

/** Replay instead of a socket: `asterisk.filePath` of the seed. */
export interface AmiReplayOptions {
  /** A scenario file (docs/scenario-format.md): a recording or one of the fixtures' .jsonl traces. */
  file: string;
  /** 1 = the recorded pace (default), 2 = twice as fast, 0 = as fast as possible. */
  speed?: number;
  /** Start over after the last event. */
  loop?: boolean;
}

/** One event of a scenario and when it came, in seconds from the scenario's first record. */
export interface AmiScenarioEvent {
  at: number;
  packet: AmiPacket;
}

export interface AmiScenario {
  file: string;
  /** From the first banner in the scenario, if any. */
  serverVersion?: string;
  events: AmiScenarioEvent[];
}

/**
 * Decodes a scenario into the events a client would have been shown: every `rx` Event packet,
 * except the answers to the recorder's own actions (events carrying an ActionID: list items and
 * list completes). OriginateResponse is kept: Asterisk broadcasts it. `tx` and `meta` records
 * only give time. Decoding errors name the file and line.
 */
export function decodeScenario(
  records: readonly AmiScenarioRecord[],
  file: string,
  maxPacketBytes?: number,
): AmiScenario {
  const events: AmiScenarioEvent[] = [];
  let serverVersion: string | undefined;
  const t0 = records.length > 0 ? records[0]!.t : 0;
  let decoder: AmiDecoder | undefined;
  let conn: number | undefined;
  let current: AmiScenarioRecord | undefined;
  let failure: AmiError | undefined;
  for (const rec of records) {
    if (rec.dir !== 'rx') continue;
    const bytes = Buffer.from(rec.b64, 'base64');
    if (bytes.length === 0) continue;
    if (decoder === undefined || rec.conn !== conn) {
      conn = rec.conn;
      decoder = new AmiDecoder(
        {
          onBanner: (version) => {
            serverVersion ??= version;
          },
          onPacket: (packet) => {
            if (!isBroadcastEvent(packet)) return;
            events.push({ at: current!.t - t0, packet });
          },
          onError: (error) => {
            failure ??= error;
          },
        },
        { maxPacketBytes, expectBanner: looksLikeBanner(bytes) },
      );
    }
    current = rec;
    decoder.push(bytes);
    if (failure) {
      throw new AmiError(AmiErrorCode.Scenario, `${file}:${lineOf(rec)}: ${failure.message}`, {
        cause: failure,
      });
    }
  }
  return { file, serverVersion, events };
}

/** Loads and decodes a scenario file (AmiError Scenario on any problem, naming file and line). */
export function loadScenario(file: string, maxPacketBytes?: number): AmiScenario {
  return decodeScenario(loadScenarioFile(file), file, maxPacketBytes);
}

/** An event for every listener, not the answer to one session's action. */
export function isBroadcastEvent(packet: AmiPacket): boolean {
  const event = packet.event;
  if (event === undefined) return false;
  return packet.actionId === undefined || event.toLowerCase() === 'originateresponse';
}

export interface AmiScenarioPlayerOptions {
  scenario: AmiScenario;
  speed?: number;
  loop?: boolean;
  onEvent(packet: AmiPacket): void;
  /** The last event was emitted (never called with loop). */
  onEnd?(): void;
  timers?: AmiTimers;
  logger?: AmiLogger;
}

/** Most events emitted in one go before yielding to the event loop. */
const BATCH = 256;

/**
 * Plays a decoded scenario's events at the recorded pace times `speed` (0: no waiting, yielding
 * to the event loop every few hundred events), optionally looping. Times are measured from the
 * start of each round, so slow listeners do not make the pace drift.
 */
export class AmiScenarioPlayer {
  private readonly timers: AmiTimers;
  private readonly speed: number;
  private index = 0;
  private roundStart = 0;
  private timer: AmiTimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private rounds = 0;

  constructor(private readonly options: AmiScenarioPlayerOptions) {
    const speed = options.speed ?? 1;
    if (!(speed >= 0) || !Number.isFinite(speed)) {
      throw new RangeError(`replay speed must be a number >= 0 (got ${String(options.speed)})`);
    }
    this.speed = speed;
    this.timers = options.timers ?? realAmiTimers;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.index = 0;
    this.rounds = 0;
    this.roundStart = this.timers.now();
    this.next(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private next(delayMs: number): void {
    if (delayMs > 0) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.run();
      }, delayMs);
    } else {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.run();
      });
    }
  }

  private run(): void {
    const { events } = this.options.scenario;
    let emitted = 0;
    while (this.running) {
      if (this.index >= events.length) {
        this.rounds += 1;
        if (this.options.loop && events.length > 0) {
          this.options.logger?.debug(
            { rounds: this.rounds },
            'AMI replay: scenario over, starting again',
          );
          this.index = 0;
          this.roundStart = this.timers.now();
          this.next(0);
        } else {
          this.running = false;
          (this.options.logger ?? silentAmiLogger).info(
            { file: this.options.scenario.file, events: events.length },
            'AMI replay: scenario played to the end',
          );
          this.options.onEnd?.();
        }
        return;
      }
      const ev = events[this.index]!;
      const due =
        this.speed === 0
          ? 0
          : this.roundStart + (ev.at - events[0]!.at) * (1000 / this.speed) - this.timers.now();
      if (due > 0) {
        this.next(due);
        return;
      }
      if (emitted >= BATCH) {
        this.next(0);
        return;
      }
      this.index += 1;
      emitted += 1;
      this.options.onEvent(ev.packet);
    }
  }
}

/**
 * Builds a packet from header lines, through the real decoder (so it behaves like a received one).
 * Used for the local answers of replay mode.
 */
export function buildPacket(headers: readonly (readonly [string, string])[]): AmiPacket {
  let out: AmiPacket | undefined;
  let error: AmiError | undefined;
  const decoder = new AmiDecoder(
    {
      onPacket: (p) => {
        out ??= p;
      },
      onError: (e) => {
        error ??= e;
      },
    },
    { expectBanner: false },
  );
  const text = headers.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}\r\n`).join('') + '\r\n';
  decoder.push(Buffer.from(text, 'utf8'));
  if (error || !out) throw error ?? new AmiError(AmiErrorCode.Protocol, 'could not build a packet');
  return out;
}

/** Actions whose answer is a list (EventList: start ... Complete) when replaying. */
const LIST_COMPLETE: Readonly<Record<string, string>> = {
  coreshowchannels: 'CoreShowChannelsComplete',
  parkedcalls: 'ParkedCallsComplete',
  queuestatus: 'QueueStatusComplete',
  queuesummary: 'QueueSummaryComplete',
  status: 'StatusComplete',
  sippeers: 'PeerlistComplete',
  pjsipshowendpoints: 'EndpointListComplete',
  parkinglots: 'ParkinglotsComplete',
  agents: 'AgentsComplete',
  bridgelist: 'BridgeListComplete',
  devicestatelist: 'DeviceStateListComplete',
  extensionstatelist: 'ExtensionStateListComplete',
};

/** The local answer of replay mode to an action: Success, as Asterisk would say it. */
export function replayResponse(
  fields: AmiActionFields,
  actionId: string,
  list: boolean,
): AmiPacket {
  const action = String(fields.Action);
  const name = action.toLowerCase();
  const h: [string, string][] = [
    ['Response', name === 'logoff' ? 'Goodbye' : 'Success'],
    ['ActionID', actionId],
  ];
  if (list) {
    h.push(['EventList', 'start'], ['Message', `${action} will follow (replay: nothing)`]);
  } else if (name === 'ping') {
    h.push(['Ping', 'Pong'], ['Timestamp', (Date.now() / 1000).toFixed(6)]);
  } else if (name === 'originate') {
    h.push(['Message', 'Originate successfully queued']);
  } else {
    h.push(['Message', `${action} not sent (replay mode)`]);
  }
  return buildPacket(h);
}

/** The `...Complete` event closing an empty list in replay mode. */
export function replayListComplete(fields: AmiActionFields, actionId: string): AmiPacket {
  const action = String(fields.Action);
  const event = LIST_COMPLETE[action.toLowerCase()] ?? `${action}Complete`;
  return buildPacket([
    ['Event', event],
    ['ActionID', actionId],
    ['EventList', 'Complete'],
    ['ListItems', '0'],
  ]);
}

/** The synthetic OriginateResponse of replay mode: Success, Reason 4 (answered). */
export function replayOriginateResponse(fields: AmiActionFields, actionId: string): AmiPacket {
  const str = (k: string): string => {
    const v = fields[k];
    return v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v);
  };
  return buildPacket([
    ['Event', 'OriginateResponse'],
    ['ActionID', actionId],
    ['Response', 'Success'],
    ['Channel', str('Channel')],
    ['Context', str('Context')],
    ['Exten', str('Exten')],
    ['Application', str('Application')],
    ['Data', str('Data')],
    ['Reason', '4'],
    ['Uniqueid', '<unknown>'],
    ['CallerIDNum', '<unknown>'],
    ['CallerIDName', '<unknown>'],
  ]);
}

function looksLikeBanner(bytes: Buffer): boolean {
  const end = bytes.indexOf(0x0a);
  const first = bytes
    .subarray(0, end === -1 ? Math.min(bytes.length, 200) : end)
    .toString('latin1');
  return !first.includes(':') || /^[^:]*\/[0-9][0-9.]*\r?$/.test(first);
}

function lineOf(rec: AmiScenarioRecord): string {
  return rec.line !== undefined ? `${rec.line} (seq ${rec.seq})` : `seq ${rec.seq}`;
}
