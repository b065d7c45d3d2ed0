// The console's data: what the event stream (GET /api/v1/events) sends, and the state the page
// keeps from it (lines by name, the AMI connection, the node). Pure: no DOM, no network.

export interface Call {
  id: string;
  deviceId: string;
  callerId: string;
  calledId: string;
  direction: string;
  state: number;
  oldState: number;
  callFeaturesSet: number;
  startTime?: string;
  timeStamp?: string;
}

export interface QueueMembership {
  queue: string;
  memberInterface: string;
  paused: boolean;
  pausedReason?: string;
}

export interface AgentState {
  code: string;
  reason?: string;
  wrapUp: boolean;
  paused: boolean;
}

export interface LineView {
  line: string;
  calls: Call[];
  queues: QueueMembership[];
  paused: boolean;
  agentState: AgentState;
}

export interface AmiView {
  state: string;
  connected: boolean;
  reason?: string;
  serverVersion?: string;
  since: number;
  reconnects: number;
}

export interface Hello {
  node: string;
  library: string;
  ready: boolean;
  reason?: string;
  ami?: AmiView;
  allLines: 'stream' | 'discovered' | null;
  key: { name: string; scopes: string[] };
  lines: LineView[];
}

/** Call states as the protocol numbers them. */
export const CALL_STATE: Record<number, string> = {
  0: 'Ended',
  1: 'Ringing',
  2: 'Talking',
  3: 'On hold',
  4: 'Conference',
  5: 'Unknown',
  6: 'Busy',
};

export const DIRECTION_IN = '1d96a65f-2131-4916-8825-2d142b1000b2';
export const DIRECTION_OUT = '53f71b5f-7e17-4cf5-bf14-6a59212db422';

export interface State {
  hello: Hello | null;
  ready: boolean;
  reason?: string;
  ami?: AmiView;
  lines: Record<string, LineView>;
  /** When each call started (ms, by call id), for the ticking durations. */
  since: Record<string, number>;
}

export const EMPTY: State = { hello: null, ready: false, lines: {}, since: {} };

export type Action =
  | { type: 'hello'; hello: Hello; now: number }
  | { type: 'line'; line: LineView; now: number }
  | { type: 'call'; line: string; call: Call; now: number }
  | { type: 'status'; ready: boolean; reason?: string; ami?: AmiView }
  | { type: 'reset' };

/** When a call started as the server stamped it (else when the console first saw it). */
function startOf(c: Call, now: number): number {
  const t = Date.parse(c.startTime ?? '');
  return Number.isFinite(t) ? Math.min(t, now) : now;
}

function withLine(s: State, view: LineView, now: number): State {
  const lines = { ...s.lines, [view.line]: view };
  // Rebuilt from the calls shown, so that ended calls leave no entry behind.
  const since: Record<string, number> = {};
  for (const l of Object.values(lines)) {
    for (const c of l.calls) since[c.id] = s.since[c.id] ?? startOf(c, now);
  }
  return { ...s, lines, since };
}

export function reduce(s: State, a: Action): State {
  switch (a.type) {
    case 'reset':
      return EMPTY;
    case 'hello': {
      let next: State = {
        hello: a.hello,
        ready: a.hello.ready,
        ...(a.hello.reason ? { reason: a.hello.reason } : {}),
        ...(a.hello.ami ? { ami: a.hello.ami } : {}),
        lines: {},
        since: s.since,
      };
      for (const l of a.hello.lines) next = withLine(next, l, a.now);
      return next;
    }
    case 'line':
      return withLine(s, a.line, a.now);
    case 'call': {
      // The call event comes before the line's state: show it at once.
      const old = s.lines[a.line] ?? emptyLine(a.line);
      const calls = old.calls.filter((c) => c.id !== a.call.id);
      if (a.call.state !== 0) calls.push(a.call);
      return withLine(s, { ...old, calls }, a.now);
    }
    case 'status':
      return {
        ...s,
        ready: a.ready,
        ...(a.reason ? { reason: a.reason } : { reason: undefined }),
        ...(a.ami ? { ami: a.ami } : {}),
      };
  }
}

export function emptyLine(line: string): LineView {
  return {
    line,
    calls: [],
    queues: [],
    paused: false,
    agentState: { code: 'Active', wrapUp: false, paused: false },
  };
}

/** mm:ss, or h:mm:ss past an hour. */
export function duration(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Lines in a stable order: numbers by value, then names. */
export function sortLines(lines: string[]): string[] {
  return [...lines].sort((a, b) => {
    const na = Number(a);
    const nb = Number(b);
    if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    return a.localeCompare(b);
  });
}
