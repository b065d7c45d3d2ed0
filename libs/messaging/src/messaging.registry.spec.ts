import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { NEVER, of } from 'rxjs';
import {
  MessagingLibrary,
  type LibraryCapabilities,
  type LineSession,
  type LineStatus,
} from './messaging-library';
import { MessagingLibraryProvider } from './messaging-library.decorator';
import { MessagingRegistryError, MessagingRegistryErrorCode } from './messaging.errors';
import { MessagingModule } from './messaging.module';
import { MessagingRegistry } from './messaging.registry';
import type { Call } from './call.model';

abstract class TestLibrary extends MessagingLibrary {
  readonly readiness$ = of({ ready: true });
  readiness() {
    return { ready: true };
  }
  capabilities(): LibraryCapabilities {
    return {
      answerCall: false,
      hold: false,
      blindTransfer: false,
      consultTransfer: false,
      dtmf: false,
      agentState: false,
      dnd: false,
    };
  }
  openLine(): LineSession {
    void NEVER;
    throw new Error('not used here');
  }
  activeCalls(): Call[] {
    return [];
  }
  busyLines(): string[] {
    return [];
  }
  findCall(): undefined {
    return undefined;
  }
  lineStatus(): LineStatus {
    throw new Error('not used here');
  }
}

@MessagingLibraryProvider({ name: 'alpha', aliases: ['Vendor.Alpha.Connector, Vendor.Alpha'] })
@Injectable()
class AlphaLibrary extends TestLibrary {}

@MessagingLibraryProvider({ name: 'beta' })
@Injectable()
class BetaLibrary extends TestLibrary {}

@MessagingLibraryProvider({ name: 'ALPHA' })
@Injectable()
class AlphaAgainLibrary extends TestLibrary {}

@Module({ providers: [AlphaLibrary], exports: [AlphaLibrary] })
class AlphaModule {}
@Module({ providers: [BetaLibrary] })
class BetaModule {}
@Module({ providers: [AlphaAgainLibrary] })
class AlphaAgainModule {}

async function start(defaultLibrary: string, modules: unknown[]) {
  const ref = await Test.createTestingModule({
    imports: [MessagingModule.forRoot({ defaultLibrary }), ...(modules as never[])],
  }).compile();
  await ref.init();
  return ref;
}

describe('MessagingRegistry', () => {
  it('discovers decorated libraries and selects the default', async () => {
    const ref = await start('beta', [AlphaModule, BetaModule]);
    const registry = ref.get(MessagingRegistry);
    assert.ok(registry.active() instanceof BetaLibrary);
    assert.deepEqual(registry.list(), [
      { name: 'alpha', aliases: ['Vendor.Alpha.Connector, Vendor.Alpha'], active: false },
      { name: 'beta', aliases: [], active: true },
    ]);
    await ref.close();
  });

  it('resolves names and aliases case-insensitively', async () => {
    const ref = await start('Alpha', [AlphaModule, BetaModule]);
    const registry = ref.get(MessagingRegistry);
    assert.ok(registry.resolve('vendor.alpha.connector, vendor.alpha') instanceof AlphaLibrary);
    assert.ok(registry.resolve('BETA') instanceof BetaLibrary);
    assert.equal(registry.resolve('gamma'), undefined);
    assert.equal(registry.nameOf('Vendor.Alpha.Connector, Vendor.Alpha'), 'alpha');
    await ref.close();
  });

  it('stops the start on an unknown default, listing the known names', async () => {
    await assert.rejects(start('gamma', [AlphaModule, BetaModule]), (e: unknown) => {
      assert.ok(e instanceof MessagingRegistryError);
      assert.equal(e.code, MessagingRegistryErrorCode.UnknownLibrary);
      assert.deepEqual(e.known, ['alpha', 'beta']);
      assert.match(e.message, /gamma.*known libraries: alpha, beta/);
      return true;
    });
  });

  it('stops the start on a duplicate name', async () => {
    await assert.rejects(start('alpha', [AlphaModule, AlphaAgainModule]), (e: unknown) => {
      assert.ok(e instanceof MessagingRegistryError);
      assert.equal(e.code, MessagingRegistryErrorCode.DuplicateName);
      assert.match(e.message, /known libraries: (alpha, ALPHA|ALPHA, alpha)/);
      return true;
    });
  });
});
