/**
 * Owns the channel table: channels by Uniqueid and by name, bridges and their members, Linkedid
 * groups, Local channel halves, and how a party resolves through them. Written only here (the
 * calls a channel carries and its take-back mark are the call rooms' fields). May not touch calls.
 */
import type { AmiPacketView } from '../asterisk.types';
import type { LineNaming } from './line-naming';
import { ownString as own } from './own-string';
import type { Chan } from './tracker-model';

export const UNKNOWN = '<unknown>';

/** Whether Asterisk gave a value (not empty, not `<unknown>`). */
export function known(v: string | undefined): v is string {
  return v !== undefined && v !== '' && v !== UNKNOWN;
}

export class ChannelTable {
  readonly channels = new Map<string, Chan>();
  readonly uidByName = new Map<string, string>();
  readonly bridges = new Map<string, Set<string>>();
  readonly groups = new Map<string, Set<string>>();

  constructor(private readonly naming: LineNaming) {}

  /** The channel name of a Uniqueid. */
  channelName(uid: string | undefined): string | undefined {
    return uid ? this.channels.get(uid)?.name : undefined;
  }

  upsertChannel(p: AmiPacketView, prefix: '' | 'Dest'): Chan | undefined {
    const uid = p.get(`${prefix}Uniqueid`);
    const name = p.get(`${prefix}Channel`);
    if (!uid || !name || uid === UNKNOWN) return undefined;
    let ch = this.channels.get(uid);
    if (!ch) {
      ch = {
        uid: own(uid),
        name: own(name),
        linkedid: own(p.get(`${prefix}Linkedid`) ?? uid),
        state: Number(p.get(`${prefix}ChannelState`) ?? 0),
        callerNum: p.get(`${prefix}CallerIDNum`) ?? '',
        connectedNum: p.get(`${prefix}ConnectedLineNum`) ?? '',
        exten: p.get(`${prefix}Exten`) ?? '',
        calls: [],
      };
      if (name.startsWith('Local/')) {
        const semi = name.lastIndexOf(';');
        if (semi > 0) {
          ch.localBase = ch.name.slice(0, semi);
          ch.localHalf = name.slice(semi + 1) === '2' ? 2 : 1;
        }
      } else {
        // The context a channel starts in tells a FreePBX trunk (asterisk.trunks `context:`).
        ch.line = this.naming.lineOfChannel(name, p.get(`${prefix}Context`));
      }
      this.channels.set(ch.uid, ch);
      this.uidByName.set(ch.name, ch.uid);
      this.joinGroup(ch);
      return ch;
    }
    const state = p.get(`${prefix}ChannelState`);
    if (state !== undefined) ch.state = Number(state);
    const caller = p.get(`${prefix}CallerIDNum`);
    if (caller !== undefined) ch.callerNum = caller;
    const connected = p.get(`${prefix}ConnectedLineNum`);
    if (connected !== undefined) ch.connectedNum = connected;
    const exten = p.get(`${prefix}Exten`);
    if (exten) ch.exten = exten;
    const linkedid = p.get(`${prefix}Linkedid`);
    if (linkedid && linkedid !== ch.linkedid) {
      this.leaveGroup(ch);
      ch.linkedid = own(linkedid);
      this.joinGroup(ch);
    }
    return ch;
  }

  private joinGroup(ch: Chan): void {
    let g = this.groups.get(ch.linkedid);
    if (!g) this.groups.set(ch.linkedid, (g = new Set()));
    g.add(ch.uid);
  }

  private leaveGroup(ch: Chan): void {
    const g = this.groups.get(ch.linkedid);
    if (!g) return;
    g.delete(ch.uid);
    if (g.size === 0) this.groups.delete(ch.linkedid);
  }

  bridgeOf(id: string | undefined): Set<string> | undefined {
    if (!id) return undefined;
    let b = this.bridges.get(id);
    if (!b) this.bridges.set(own(id), (b = new Set()));
    return b;
  }

  /** `ch` enters the bridge `b` (BridgeUniqueid `bridgeId`); a channel is in one bridge at a time. */
  enterBridge(ch: Chan, b: Set<string>, bridgeId: string): void {
    const id = own(bridgeId);
    if (ch.bridge && ch.bridge !== id) {
      // A channel is in one bridge at a time: a missed BridgeLeave must not keep it in the old one.
      const old = this.bridges.get(ch.bridge);
      old?.delete(ch.uid);
      if (old?.size === 0) this.bridges.delete(ch.bridge);
    }
    b.add(ch.uid);
    ch.bridge = id;
  }

  onBridgeLeave(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const id = p.get('BridgeUniqueid');
    if (!uid || !id) return;
    const b = this.bridges.get(id);
    if (b) {
      b.delete(uid);
      if (b.size === 0) this.bridges.delete(id); // holding bridges (parking) are never destroyed
    }
    const ch = this.channels.get(uid);
    if (ch && ch.bridge === id) ch.bridge = undefined;
  }

  onBridgeDestroy(p: AmiPacketView): void {
    const id = p.get('BridgeUniqueid');
    if (id) this.bridges.delete(id);
  }

  onRename(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const name = p.get('Newname');
    const ch = uid ? this.channels.get(uid) : undefined;
    if (!ch || !name) return;
    if (this.uidByName.get(ch.name) === uid) this.uidByName.delete(ch.name);
    ch.name = own(name);
    this.uidByName.set(ch.name, ch.uid);
  }

  /** A resync snapshot's bridge of `ch` (`bridge` empty: in none, unless an event said otherwise). */
  snapshotBridge(ch: Chan, bridge: string | undefined, seenSince: boolean): void {
    if (bridge) {
      if (ch.bridge && ch.bridge !== bridge) this.bridges.get(ch.bridge)?.delete(ch.uid);
      ch.bridge = own(bridge);
      this.bridgeOf(bridge)!.add(ch.uid);
    } else if (ch.bridge && !seenSince) {
      this.bridges.get(ch.bridge)?.delete(ch.uid);
      ch.bridge = undefined;
    }
  }

  /** Drops the bridges nobody is in (after a resync). */
  dropEmptyBridges(): void {
    for (const [id, b] of [...this.bridges]) if (b.size === 0) this.bridges.delete(id);
  }

  removeChannel(ch: Chan): void {
    this.channels.delete(ch.uid);
    if (this.uidByName.get(ch.name) === ch.uid) this.uidByName.delete(ch.name);
    if (ch.bridge) {
      const b = this.bridges.get(ch.bridge);
      b?.delete(ch.uid);
      if (b?.size === 0) this.bridges.delete(ch.bridge);
    }
    this.leaveGroup(ch);
  }

  /** The other half of a Local channel. */
  private localPeer(ch: Chan): Chan | undefined {
    if (!ch.localBase) return undefined;
    const uid = this.uidByName.get(`${ch.localBase};${ch.localHalf === 1 ? 2 : 1}`);
    return uid ? this.channels.get(uid) : undefined;
  }

  /**
   * The real party behind `ch`: through a Local channel pair to whoever is bridged with or dialled
   * the other half (a queue call's outside caller, not `Local/305@from-queue-...;2`).
   */
  resolveParty(ch: Chan | undefined, depth = 0): Chan | undefined {
    if (!ch || !ch.localBase || depth > 4) return ch;
    const peer = this.localPeer(ch);
    if (!peer) return ch;
    const beyond =
      this.bridgePartner(peer) ?? (peer.dialedBy ? this.channels.get(peer.dialedBy) : undefined);
    return beyond ? this.resolveParty(beyond, depth + 1) : ch;
  }

  /** The other channel in `ch`'s bridge (the first one), if any. */
  bridgePartner(ch: Chan): Chan | undefined {
    if (!ch.bridge) return undefined;
    const b = this.bridges.get(ch.bridge);
    if (!b) return undefined;
    for (const uid of b) if (uid !== ch.uid) return this.channels.get(uid);
    return undefined;
  }

  numberOf(ch: Chan | undefined): string {
    if (!ch) return '';
    if (ch.localBase) {
      // A Local half stands for its extension (`Local/306@ctx-...;1` -> 306).
      const at = ch.localBase.indexOf('@');
      return ch.localBase.slice('Local/'.length, at > 0 ? at : undefined);
    }
    if (ch.line) return ch.line;
    return known(ch.callerNum) ? ch.callerNum : '';
  }

  /** Forgets every channel and bridge (the library is closing). */
  clear(): void {
    this.channels.clear();
    this.uidByName.clear();
    this.bridges.clear();
    this.groups.clear();
  }
}
