/**
 * The benchmark's corpus: realistic AMI events (shapes and values copied from the Asterisk 20
 * traces in shared/fixtures/asterisk: inbound trunk calls, queue calls with Local channels, agent
 * legs, bridges, hangups, device and extension states, queue member status), Cyrillic caller
 * names included. Deterministic for a seed, so the server and every reader build the same corpus
 * without passing it around.
 */

/** One generated event: header names (shared per shape) and values, in wire order. */
export interface CorpusEvent {
  readonly keys: readonly string[];
  readonly values: readonly string[];
}

export interface Corpus {
  readonly events: readonly CorpusEvent[];
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHANNEL_KEYS = [
  'Channel',
  'ChannelState',
  'ChannelStateDesc',
  'CallerIDNum',
  'CallerIDName',
  'ConnectedLineNum',
  'ConnectedLineName',
  'Language',
  'AccountCode',
  'Context',
  'Exten',
  'Priority',
  'Uniqueid',
  'Linkedid',
] as const;
const DEST_KEYS = CHANNEL_KEYS.map((k) => `Dest${k}`);
const BRIDGE_KEYS = [
  'BridgeUniqueid',
  'BridgeType',
  'BridgeTechnology',
  'BridgeCreator',
  'BridgeName',
  'BridgeNumChannels',
  'BridgeVideoSourceMode',
] as const;

/** Header lists are shared between events of one shape (like a decoder that interns keys would). */
const shapes = new Map<string, string[]>();
function shape(keys: string[]): string[] {
  const id = keys.join('\n');
  let s = shapes.get(id);
  if (!s) {
    s = keys;
    shapes.set(id, s);
  }
  return s;
}

const STATE_DESC: Record<string, string> = {
  '0': 'Down',
  '4': 'Ring',
  '5': 'Ringing',
  '6': 'Up',
};

const SURNAMES = [
  'Иванов',
  'Петров',
  'Смирнов',
  'Кузнецов',
  'Соколов',
  'Попов',
  'Лебедев',
  'Новиков',
];
const NAMES = ['Иван', 'Пётр', 'Алексей', 'Сергей', 'Дмитрий', 'Андрей', 'Юрий', 'Михаил'];
const OPERATOR_NAMES = ['Оператор', 'Агент', 'Agent'];

interface Chan {
  name: string;
  state: string;
  num: string;
  callerName: string;
  connNum: string;
  connName: string;
  context: string;
  exten: string;
  priority: string;
  uniqueid: string;
  linkedid: string;
}

function chanValues(c: Chan): string[] {
  return [
    c.name,
    c.state,
    STATE_DESC[c.state] ?? 'Unknown',
    c.num,
    c.callerName,
    c.connNum,
    c.connName,
    'en',
    '',
    c.context,
    c.exten,
    c.priority,
    c.uniqueid,
    c.linkedid,
  ];
}

/** Builds the events of one call at a time; several calls are interleaved like on a busy PBX. */
class CallScript {
  readonly events: CorpusEvent[] = [];
  private pos = 0;

  constructor(
    rnd: () => number,
    n: number,
    private readonly clock: { t: number; seq: number },
  ) {
    this.build(rnd, n);
  }

  next(): CorpusEvent | undefined {
    return this.events[this.pos++];
  }

  private uid(): string {
    this.clock.seq += 1;
    return `${this.clock.t}.${this.clock.seq}`;
  }

  private push(event: string, privilege: string, keys: readonly string[], values: string[]): void {
    this.events.push({
      keys: shape(['Event', 'Privilege', ...keys]),
      values: [event, privilege, ...values],
    });
  }

  private chanEvent(event: string, c: Chan, extra: [string, string][] = []): void {
    this.push(
      event,
      'call,all',
      [...CHANNEL_KEYS, ...extra.map((e) => e[0])],
      [...chanValues(c), ...extra.map((e) => e[1])],
    );
  }

  private dialEvent(event: string, c: Chan, d: Chan, extra: [string, string][]): void {
    this.push(
      event,
      'call,all',
      [...CHANNEL_KEYS, ...DEST_KEYS, ...extra.map((e) => e[0])],
      [...chanValues(c), ...chanValues(d), ...extra.map((e) => e[1])],
    );
  }

  private bridgeEvent(event: string, bridge: string, count: number, c?: Chan): void {
    const bridgeValues = [
      bridge,
      'basic',
      'simple_bridge',
      '<unknown>',
      '<unknown>',
      String(count),
      'none',
    ];
    if (c) {
      this.push(
        event,
        'call,all',
        [...BRIDGE_KEYS, ...CHANNEL_KEYS],
        [...bridgeValues, ...chanValues(c)],
      );
    } else {
      this.push(event, 'call,all', [...BRIDGE_KEYS], bridgeValues);
    }
  }

  private build(rnd: () => number, n: number): void {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    this.clock.t += 1 + Math.floor(rnd() * 3);
    const caller = `79${String(100000000 + Math.floor(rnd() * 899999999))}`;
    const cyrillic = rnd() < 0.5;
    const callerName = cyrillic ? `${pick(SURNAMES)} ${pick(NAMES)}` : `Customer ${caller}`;
    const agent = String(305 + Math.floor(rnd() * 3));
    const agentName = `${pick(OPERATOR_NAMES)} ${agent}`;
    const hex = (k: number) =>
      Array.from({ length: k }, () => Math.floor(rnd() * 16).toString(16)).join('');
    const bridge = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
    const seqHex = (n % 0xffffff).toString(16).padStart(8, '0');
    const queue = rnd() < 0.5;

    const trunk: Chan = {
      name: `SIP/trunk-in-${seqHex}`,
      state: '0',
      num: caller,
      callerName,
      connNum: '<unknown>',
      connName: '<unknown>',
      context: 'from-trunk',
      exten: queue ? '800' : agent,
      priority: '1',
      uniqueid: this.uid(),
      linkedid: '',
    };
    trunk.linkedid = trunk.uniqueid;
    this.chanEvent('Newchannel', trunk);
    trunk.state = '4';
    this.chanEvent('Newstate', trunk);
    if (queue) {
      this.push('DeviceStateChange', 'call,all', ['Device', 'State'], ['Queue:support', 'RINGING']);
      trunk.state = '6';
      trunk.context = 'from-internal';
      trunk.priority = '3';
      this.push(
        'QueueCallerJoin',
        'agent,all',
        [...CHANNEL_KEYS, 'Queue', 'Position', 'Count'],
        [...chanValues(trunk), 'support', '1', '1'],
      );
    }
    const leg: Chan = {
      name: `SIP/${agent}-${seqHex}`,
      state: '0',
      num: agent,
      callerName: agentName,
      connNum: '<unknown>',
      connName: '<unknown>',
      context: 'from-internal',
      exten: 's',
      priority: '1',
      uniqueid: this.uid(),
      linkedid: trunk.linkedid,
    };
    this.chanEvent('Newchannel', leg);
    leg.connNum = caller;
    leg.connName = callerName;
    this.chanEvent('NewConnectedLine', leg);
    this.chanEvent('NewCallerid', leg, [
      ['CID-CallingPres', '0 (Presentation Allowed, Not Screened)'],
    ]);
    this.dialEvent('DialBegin', trunk, leg, [
      ['DialString', queue ? `Local/${agent}@from-queue/n` : agent],
    ]);
    leg.state = '5';
    this.chanEvent('Newstate', leg);
    this.push('DeviceStateChange', 'call,all', ['Device', 'State'], [`SIP/${agent}`, 'RINGING']);
    this.push(
      'ExtensionStatus',
      'call,all',
      ['Exten', 'Context', 'Hint', 'Status', 'StatusText'],
      [agent, 'from-internal', `SIP/${agent}`, '8', 'Ringing'],
    );
    if (queue) this.queueMember(agent, '6', '1', rnd);
    this.dialEvent('DialState', trunk, leg, [['DialStatus', 'RINGING']]);
    leg.state = '6';
    this.chanEvent('Newstate', leg);
    this.dialEvent('DialEnd', trunk, leg, [['DialStatus', 'ANSWER']]);
    this.push('DeviceStateChange', 'call,all', ['Device', 'State'], [`SIP/${agent}`, 'INUSE']);
    this.push(
      'ExtensionStatus',
      'call,all',
      ['Exten', 'Context', 'Hint', 'Status', 'StatusText'],
      [agent, 'from-internal', `SIP/${agent}`, '1', 'InUse'],
    );
    if (queue) {
      this.push(
        'AgentConnect',
        'agent,all',
        [...CHANNEL_KEYS, ...DEST_KEYS, 'Queue', 'Interface', 'MemberName', 'HoldTime', 'RingTime'],
        [
          ...chanValues(trunk),
          ...chanValues(leg),
          'support',
          `Local/${agent}@from-queue/n`,
          agent,
          String(1 + Math.floor(rnd() * 30)),
          String(1 + Math.floor(rnd() * 10)),
        ],
      );
      this.queueMember(agent, '2', '1', rnd);
    }
    this.bridgeEvent('BridgeCreate', bridge, 0);
    this.bridgeEvent('BridgeEnter', bridge, 1, leg);
    trunk.state = '6';
    trunk.connNum = agent;
    trunk.connName = agentName;
    this.bridgeEvent('BridgeEnter', bridge, 2, trunk);
    this.chanEvent('HangupRequest', trunk, [['Cause', '16']]);
    this.bridgeEvent('BridgeLeave', bridge, 1, trunk);
    this.chanEvent('Hangup', trunk, [
      ['Cause', '16'],
      ['Cause-txt', 'Normal Clearing'],
    ]);
    this.chanEvent('SoftHangupRequest', leg, [['Cause', '16']]);
    this.bridgeEvent('BridgeLeave', bridge, 0, leg);
    this.bridgeEvent('BridgeDestroy', bridge, 0);
    this.chanEvent('Hangup', leg, [
      ['Cause', '16'],
      ['Cause-txt', 'Normal Clearing'],
    ]);
    this.push('DeviceStateChange', 'call,all', ['Device', 'State'], [`SIP/${agent}`, 'NOT_INUSE']);
    if (queue) this.queueMember(agent, '1', '0', rnd);
  }

  private queueMember(agent: string, status: string, inCall: string, rnd: () => number): void {
    this.push(
      'QueueMemberStatus',
      'agent,all',
      [
        'Queue',
        'MemberName',
        'Interface',
        'StateInterface',
        'Membership',
        'Penalty',
        'CallsTaken',
        'LastCall',
        'LastPause',
        'LoginTime',
        'InCall',
        'Status',
        'Paused',
        'PausedReason',
        'Ringinuse',
        'Wrapuptime',
      ],
      [
        'support',
        agent,
        `Local/${agent}@from-queue/n`,
        `SIP/${agent}`,
        'static',
        '0',
        String(Math.floor(rnd() * 50)),
        String(this.clock.t),
        '0',
        '1795582027',
        inCall,
        status,
        '0',
        '',
        '0',
        '0',
      ],
    );
  }
}

/** At least `count` events (whole calls; exactly `count` after trimming), deterministic for `seed`. */
export function generateCorpus(count: number, seed: number): Corpus {
  const rnd = prng(seed);
  const clock = { t: 1795582000, seq: 0 };
  const events: CorpusEvent[] = [];
  const active: CallScript[] = [];
  let calls = 0;
  while (events.length < count) {
    while (active.length < 3) active.push(new CallScript(rnd, calls++, clock));
    const i = Math.floor(rnd() * active.length);
    const e = active[i]!.next();
    if (e === undefined) {
      active.splice(i, 1);
      continue;
    }
    events.push(e);
  }
  return { events };
}

/** The event as Asterisk writes it: `Key: value` lines with CRLF, an empty line at the end. */
export function eventText(e: CorpusEvent): string {
  let s = '';
  for (let i = 0; i < e.keys.length; i++) s += `${e.keys[i]}: ${e.values[i]}\r\n`;
  return `${s}\r\n`;
}

/** The whole corpus as wire bytes. */
export function corpusBytes(corpus: Corpus): Buffer {
  const parts: Buffer[] = [];
  let batch = '';
  for (const e of corpus.events) {
    batch += eventText(e);
    if (batch.length > 1 << 20) {
      parts.push(Buffer.from(batch, 'utf8'));
      batch = '';
    }
  }
  parts.push(Buffer.from(batch, 'utf8'));
  return Buffer.concat(parts);
}
