/**
 * Owns RAW_DATA (debugMode): which lines a packet concerns, sent as is to the sessions that asked.
 * Reads the channel table, the calls and the parked calls; writes nothing but sink events.
 */
import { MsgEventType } from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import type { ChannelTable } from '../core/channel-table';
import type { LineNaming } from '../core/line-naming';
import type { Chan, TrackedCall, TrackerSink } from '../core/tracker-model';

export class RawData {
  private readonly channels: Map<string, Chan>;

  constructor(
    table: ChannelTable,
    private readonly callsByParkee: ReadonlyMap<string, TrackedCall>,
    private readonly naming: LineNaming,
    private readonly sink: TrackerSink,
  ) {
    this.channels = table.channels;
  }

  /** Sends `p` as RAW_DATA to every line it concerns whose sessions want it. */
  raw(p: AmiPacketView): void {
    const lines = new Set<string>();
    for (const key of ['Uniqueid', 'DestUniqueid', 'ParkeeUniqueid', 'RetrieverUniqueid']) {
      const uid = p.get(key);
      if (!uid) continue;
      const ch = this.channels.get(uid);
      if (ch?.line) lines.add(ch.line);
      for (const c of ch?.calls ?? []) lines.add(c.line);
      const held = this.callsByParkee.get(uid);
      if (held) lines.add(held.line);
    }
    for (const key of ['Channel', 'DestChannel']) {
      const name = p.get(key);
      if (!name) continue;
      const line = this.naming.lineOfChannel(name);
      if (line) lines.add(line);
      else if (name.toLowerCase().startsWith(this.naming.protocolLower) && !name.includes('-')) {
        lines.add(name.slice(this.naming.protocol.length)); // OriginateResponse Failure: Channel: SIP/305
      }
    }
    const iface = p.get('Interface') ?? p.get('Location');
    if (iface) {
      const line = this.naming.lineOfMember(iface);
      if (line) lines.add(line);
    }
    let data: Record<string, string | string[]> | undefined;
    for (const line of lines) {
      if (!this.sink.wantsRaw(line)) continue;
      data ??= p.toObject();
      this.sink.emit({ type: MsgEventType.RAW_DATA, line, data });
    }
  }
}
