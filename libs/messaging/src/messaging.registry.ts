import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { MessagingLibrary } from './messaging-library';
import {
  MessagingLibraryProvider,
  type MessagingLibraryMetadata,
} from './messaging-library.decorator';
import { MessagingRegistryError, MessagingRegistryErrorCode } from './messaging.errors';
import {
  MESSAGING_MODULE_OPTIONS,
  type MessagingModuleOptions,
} from './messaging.module-definition';

interface Entry {
  name: string;
  aliases: string[];
  library: MessagingLibrary;
}

/** Every messaging library found at start, by name and alias (case-insensitive). */
@Injectable()
export class MessagingRegistry implements OnModuleInit {
  private readonly logger = new Logger(MessagingRegistry.name);
  private readonly byKey = new Map<string, Entry>();
  private entries: Entry[] = [];
  private activeEntry: Entry | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(MESSAGING_MODULE_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  onModuleInit(): void {
    const found: { meta: MessagingLibraryMetadata; instance: unknown; token: string }[] = [];
    for (const wrapper of this.discovery.getProviders({
      metadataKey: MessagingLibraryProvider.KEY,
    })) {
      const meta = this.discovery.getMetadataByDecorator(MessagingLibraryProvider, wrapper);
      if (!meta) continue;
      found.push({ meta, instance: wrapper.instance, token: String(wrapper.name) });
    }
    this.build(found);
  }

  /** Builds the tables; public for tests that register libraries without Nest. */
  build(
    found: readonly { meta: MessagingLibraryMetadata; instance: unknown; token?: string }[],
  ): void {
    this.byKey.clear();
    this.entries = [];
    const seen = new Set<unknown>();
    const allNames = found.map((f) => f.meta.name);
    for (const { meta, instance, token } of found) {
      if (seen.has(instance)) continue; // the same instance exported through two modules
      seen.add(instance);
      if (!(instance instanceof MessagingLibrary)) {
        throw new MessagingRegistryError(
          MessagingRegistryErrorCode.NotALibrary,
          `provider ${token ?? meta.name} is decorated as messaging library '${meta.name}' but does not extend MessagingLibrary`,
          allNames,
        );
      }
      const entry: Entry = {
        name: meta.name,
        aliases: [...(meta.aliases ?? [])],
        library: instance,
      };
      for (const key of [entry.name, ...entry.aliases]) {
        const k = key.trim().toLowerCase();
        const other = this.byKey.get(k);
        if (other) {
          throw new MessagingRegistryError(
            MessagingRegistryErrorCode.DuplicateName,
            `messaging library name '${key}' is claimed by both '${other.name}' and '${entry.name}'`,
            allNames,
          );
        }
        this.byKey.set(k, entry);
      }
      this.entries.push(entry);
    }
    const wanted = this.options.defaultLibrary;
    const active = this.byKey.get(wanted.trim().toLowerCase());
    if (!active) {
      throw new MessagingRegistryError(
        MessagingRegistryErrorCode.UnknownLibrary,
        `messaging.defaultLibrary '${wanted}' is not a registered messaging library`,
        this.entries.map((e) => e.name),
      );
    }
    this.activeEntry = active;
    this.logger.log(
      `messaging libraries: ${this.entries.map((e) => e.name).join(', ')}; default '${active.name}'`,
    );
  }

  /** The library `messaging.defaultLibrary` selects. */
  active(): MessagingLibrary {
    if (!this.activeEntry) {
      throw new MessagingRegistryError(
        MessagingRegistryErrorCode.UnknownLibrary,
        'the messaging registry is not built yet (called before module init)',
        this.entries.map((e) => e.name),
      );
    }
    return this.activeEntry.library;
  }

  /** The canonical name of the active library. */
  activeName(): string {
    this.active();
    return this.activeEntry!.name;
  }

  /** A library by name or alias (case-insensitive), e.g. a LoadLibrary AssemblyName. */
  resolve(nameOrAlias: string): MessagingLibrary | undefined {
    return this.byKey.get(nameOrAlias.trim().toLowerCase())?.library;
  }

  /** The canonical name of a library found by name or alias. */
  nameOf(nameOrAlias: string): string | undefined {
    return this.byKey.get(nameOrAlias.trim().toLowerCase())?.name;
  }

  list(): { name: string; aliases: string[]; active: boolean }[] {
    return this.entries.map((e) => ({
      name: e.name,
      aliases: [...e.aliases],
      active: e === this.activeEntry,
    }));
  }
}
