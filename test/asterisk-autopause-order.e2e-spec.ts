/**
 * Found by bench:soak (issue 16): after 30,000 calls one line stayed auto-paused. The pause waits
 * for the LineActionGate's answer; a call that connected and ended before that answer had its
 * unpause checked first (nothing paused yet: skipped), then the pause went out and stayed. The
 * effects of a line now run in order; every line ends unpaused with no agent state left.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAmiServer } from '@app/ami/testing';
import { AsteriskLibrary } from '@app/asterisk';
import { LineActionGate, MemoryAgentStateStore } from '@app/messaging';
import {
  actionFields,
  libraryOptions,
  queueMember305,
  settle,
  until,
  whenReady,
} from './asterisk-harness';

/** A gate that answers "act" only after `ms` (a cluster's Redis round trip, slowed down). */
class SlowGate extends LineActionGate {
  constructor(private readonly ms: number) {
    super();
  }

  async mayAct(): Promise<boolean> {
    await new Promise((r) => setTimeout(r, this.ms));
    return true;
  }
}

describe('autoPauseOnCommutationStart with a gate that answers late', () => {
  it('a call that connects and ends before the gate answers: paused, then unpaused, nothing kept', async () => {
    const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
    ami.setList('QueueStatus', [queueMember305('support')]);
    const agents = new MemoryAgentStateStore();
    const lib = new AsteriskLibrary(
      libraryOptions(ami, { autoPauseOnCommutationStart: true }),
      new SlowGate(300),
      agents,
    );
    try {
      lib.start();
      await whenReady(lib);
      const calls = 3;
      for (let i = 0; i < calls; i++) await ami.replay('c_inbound_answered');
      await settle(ami, lib);
      await until(() => lib.internalSizes()['agentEffectsWaiting'] === 0, 'the gate to answer');
      await settle(ami, lib);
      const pauses = ami.actions
        .filter((a) => a.get('Action') === 'QueuePause')
        .map((a) => actionFields(a)['Paused']);
      assert.deepEqual(pauses, Array.from({ length: calls }, () => ['true', 'false']).flat());
      assert.equal(agents.get('305')?.autoPaused ?? false, false, 'the line is left unpaused');
      assert.equal(lib.internalSizes()['agents'], 0);
    } finally {
      await lib.close();
      await ami.close();
    }
  });
});
