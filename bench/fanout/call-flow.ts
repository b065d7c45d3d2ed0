/**
 * Synthetic inbound calls in the shape of the recorded traces (c_inbound_answered): the trunk
 * channel, the line's channel dialled, ringing, then both hung up. The caller number is a tag
 * (7 + a sequence number) that comes back in the Call's callerId, so each client frame can be
 * matched with the AMI packet that caused it.
 */
export interface FlowPacket {
  /** Raw AMI text of the event. */
  text: string;
  /** Set on the packet whose arrival at a client is timed: the event type it causes and the tag. */
  timed?: { eventType: 5 | 6; tag: string };
}

let uniq = 1_900_000_000;

function packet(fields: Record<string, string>): string {
  return (
    Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') + '\r\n'
  );
}

/** The packets of one call to `line` from the caller `tag`, in wire order. */
export function inboundCall(line: string, seq: number): FlowPacket[] {
  const tag = `7${String(seq).padStart(10, '0')}`;
  const hex = seq.toString(16).padStart(8, '0');
  const trunk = `SIP/trunk-in-${hex}`;
  const chan = `SIP/${line}-${hex}`;
  const a = `${++uniq}.1`;
  const b = `${uniq}.2`;
  const common = (
    channel: string,
    uid: string,
    state: string,
    desc: string,
    num: string,
    conn: string,
  ) => ({
    Privilege: 'call,all',
    Channel: channel,
    ChannelState: state,
    ChannelStateDesc: desc,
    CallerIDNum: num,
    CallerIDName: `Customer ${tag}`,
    ConnectedLineNum: conn,
    ConnectedLineName: '<unknown>',
    Language: 'en',
    AccountCode: '',
    Context: channel === trunk ? 'from-trunk' : 'from-internal',
    Exten: line,
    Priority: '1',
    Uniqueid: uid,
    Linkedid: a,
  });
  return [
    { text: packet({ Event: 'Newchannel', ...common(trunk, a, '0', 'Down', tag, '<unknown>') }) },
    { text: packet({ Event: 'Newstate', ...common(trunk, a, '4', 'Ring', tag, '<unknown>') }) },
    { text: packet({ Event: 'Newchannel', ...common(chan, b, '0', 'Down', line, tag) }) },
    {
      text: packet({
        Event: 'DialBegin',
        Privilege: 'call,all',
        Channel: trunk,
        ChannelState: '4',
        ChannelStateDesc: 'Ring',
        CallerIDNum: tag,
        CallerIDName: `Customer ${tag}`,
        ConnectedLineNum: '<unknown>',
        ConnectedLineName: '<unknown>',
        Language: 'en',
        AccountCode: '',
        Context: 'from-trunk',
        Exten: line,
        Priority: '1',
        Uniqueid: a,
        Linkedid: a,
        DestChannel: chan,
        DestChannelState: '0',
        DestChannelStateDesc: 'Down',
        DestCallerIDNum: line,
        DestCallerIDName: '<unknown>',
        DestConnectedLineNum: tag,
        DestConnectedLineName: `Customer ${tag}`,
        DestLanguage: 'en',
        DestAccountCode: '',
        DestContext: 'from-internal',
        DestExten: line,
        DestPriority: '1',
        DestUniqueid: b,
        DestLinkedid: a,
        DialString: line,
      }),
    },
    {
      text: packet({ Event: 'Newstate', ...common(chan, b, '5', 'Ringing', line, tag) }),
      timed: { eventType: 5, tag },
    },
    {
      text: packet({
        Event: 'Hangup',
        ...common(chan, b, '5', 'Ringing', line, tag),
        Cause: '16',
        'Cause-txt': 'Normal Clearing',
      }),
      timed: { eventType: 6, tag },
    },
    {
      text: packet({
        Event: 'Hangup',
        ...common(trunk, a, '4', 'Ring', tag, '<unknown>'),
        Cause: '16',
        'Cause-txt': 'Normal Clearing',
      }),
    },
  ];
}
