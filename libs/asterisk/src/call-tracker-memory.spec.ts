/**
 * What the tracker keeps for long (queue members) must not pin the socket reads its
 * packets were decoded from (issue 16: each queue member's interface held a whole 64 KiB read).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AmiDecoder, type AmiPacket } from '@app/ami';
import { CallTracker } from './call-tracker';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const LINES = 200;
const READ = 64 * 1024;

/** One 64 KiB socket read: a QueueMemberStatus of `line`, then filler events. */
function readFor(line: string): Buffer {
  let text =
    `Event: QueueMemberStatus\r\nPrivilege: agent,all\r\nQueue: support\r\n` +
    `MemberName: ${line}\r\nInterface: Local/${line}@from-queue/n\r\n` +
    `StateInterface: SIP/${line}\r\nMembership: static\r\nPenalty: 0\r\nCallsTaken: 0\r\n` +
    `LastCall: 0\r\nLastPause: 0\r\nLoginTime: 1795582027\r\nInCall: 0\r\nStatus: 1\r\n` +
    `Paused: 1\r\nPausedReason: lunch break of the line ${line}\r\nRinginuse: 1\r\nWrapuptime: 0\r\n\r\n`;
  let i = 0;
  while (text.length < READ - 200) {
    text += `Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: SIP\r\nPeer: SIP/f${i++}\r\nPeerStatus: Reachable\r\n\r\n`;
  }
  return Buffer.from(text, 'latin1');
}

describe('CallTracker memory', () => {
  it(`${LINES} queue members learnt from 64 KiB reads keep none of those reads`, () => {
    const tracker = new CallTracker(
      {
        protocol: 'SIP/',
        queueExtensionFormat: 'Local/{0}@from-queue/n',
        sendRingStartedOnRingingState: true,
        packetInfoConfig: '',
        traceQueuesState: false,
      },
      {
        emit: () => undefined,
        wantsRaw: () => false,
        anyRaw: () => false,
        notice: () => undefined,
      },
    );
    const reads = Array.from({ length: LINES }, (_, i) => readFor(String(30_000 + i)));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (const r of reads) {
      // A decoder per read, as after reconnects: nothing but the tracker keeps the packets.
      new AmiDecoder(
        { onPacket: (p: AmiPacket) => tracker.handle(p), onError: (e) => assert.fail(e) },
        { expectBanner: false },
      ).push(r);
    }
    assert.equal(tracker.memberships('30000')[0]?.reason, 'lunch break of the line 30000');
    assert.equal(tracker.memberships('30199')[0]?.iface, 'Local/30199@from-queue/n');
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    // A pinned read is 64 KiB: all of them would be 12.5 MiB; the members themselves are ~100 KiB.
    assert.ok(
      kept < (LINES * READ) / 8,
      `the tracker keeps ${(kept / 1048576).toFixed(2)} MiB for ${LINES} queue members`,
    );
  });
});
