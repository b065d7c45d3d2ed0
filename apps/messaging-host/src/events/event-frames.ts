// The event stream's wire format: Server-Sent Events frames whose data is one JSON object, and the
// JSON of each line event (docs/rest.md "Event stream"). Serialised once per event, for every reader.
import {
  MsgEventType,
  type AgentState,
  type Call,
  type LineEvent,
  type LineStatus,
  type QueueMembership,
} from '@app/messaging';

/** A line as the stream shows it: its calls, queue memberships, pause and agent state. */
export interface LineView {
  line: string;
  calls: Call[];
  queues: QueueMembership[];
  /** Paused in at least one queue. */
  paused: boolean;
  agentState: AgentState;
}

export function lineView(status: LineStatus): LineView {
  return {
    line: status.line,
    calls: status.calls,
    queues: status.queues,
    paused: status.queues.some((q) => q.paused),
    agentState: status.agentState,
  };
}

/**
 * One SSE frame: `event: <name>` and one `data:` line (JSON text never holds a raw line break).
 * With `id`, an `id:` line too (the node's event sequence number).
 */
export function sseFrame(name: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps proxies and clients from timing the stream out. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/** The SSE event name and JSON of a line event; `seq` orders events on this node. */
export function lineEventFrame(e: LineEvent, seq: number): string {
  switch (e.type) {
    case MsgEventType.LINE_STATE_CHANGED:
      return sseFrame(
        'lineState',
        {
          seq,
          line: e.line,
          callFeaturesSet: e.callFeaturesSet,
          ...(e.callId ? { callId: e.callId } : {}),
        },
        seq,
      );
    case MsgEventType.AGENT_STATE_CHANGED:
      return sseFrame('agentState', { seq, line: e.line, code: e.code }, seq);
    case MsgEventType.ERROR:
      return sseFrame(
        'error',
        {
          seq,
          line: e.line,
          ...(e.callId ? { callId: e.callId } : {}),
          code: e.error.code,
          message: e.error.detail ? `${e.error.message}: ${e.error.detail}` : e.error.message,
        },
        seq,
      );
    case MsgEventType.RAW_DATA:
      return sseFrame('raw', { seq, line: e.line, data: e.data }, seq);
    default:
      return sseFrame(
        'call',
        { seq, line: e.line, event: MsgEventType[e.type], eventType: e.type, call: e.call },
        seq,
      );
  }
}
