/**
 * Owns the queue members of each line as Asterisk reports them (`queues`: line -> queue ->
 * member state) and the QueueMember* events. Written only here. May not touch channels or calls.
 */
import type { AmiPacketView, QueueMemberState } from '../asterisk.types';
import type { LineNaming } from '../core/line-naming';
import { ownString } from '../core/own-string';
import type { TrackerSink } from '../core/tracker-model';

export class QueuesTracker {
  readonly queues = new Map<string, Map<string, QueueMemberState>>();

  constructor(
    private readonly naming: LineNaming,
    private readonly sink: TrackerSink,
  ) {}

  /** Queue memberships of a line. */
  memberships(line: string): QueueMemberState[] {
    return [...(this.queues.get(line)?.values() ?? [])];
  }

  onQueueMember(p: AmiPacketView, ev: string): void {
    const iface = p.get('Interface') ?? p.get('Location') ?? '';
    const line = this.naming.lineOfMember(iface);
    const queue = p.get('Queue');
    if (!line || !queue) return;
    let m = this.queues.get(line);
    if (!m) this.queues.set(ownString(line), (m = new Map()));
    const reason = p.get('PausedReason') ?? p.get('Reason');
    // Kept until the next event of the member: copies, not slices of the socket read.
    const member: QueueMemberState = {
      line: ownString(line),
      queue: ownString(queue),
      iface: ownString(iface),
      status: Number(p.get('Status') ?? 0),
      paused: p.get('Paused') === '1',
      inCall: p.get('InCall') === '1',
      ...(reason ? { reason: ownString(reason) } : {}),
    };
    m.set(member.queue, member);
    this.sink.notice({ kind: 'queue-member', member, event: ev });
  }

  onQueueMemberRemoved(p: AmiPacketView): void {
    const iface = p.get('Interface') ?? '';
    const line = this.naming.lineOfMember(iface);
    const queue = p.get('Queue');
    if (!line || !queue) return;
    const m = this.queues.get(line);
    m?.delete(queue);
    if (m?.size === 0) this.queues.delete(line);
  }

  /** Replaces every membership with a QueueStatus snapshot's QueueMember items (a resync). */
  applySnapshot(items: readonly AmiPacketView[]): void {
    this.queues.clear();
    for (const item of items)
      if (item.event === 'QueueMember') this.onQueueMember(item, 'QueueMember');
  }
}
