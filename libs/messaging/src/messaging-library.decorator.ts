import { DiscoveryService } from '@nestjs/core';

/** Metadata of a messaging library provider. */
export interface MessagingLibraryMetadata {
  /** Registry name, e.g. 'asterisk' (case-insensitive). */
  name: string;
  /** Other names a client may send in LoadLibrary (e.g. Creatio assembly names). */
  aliases?: readonly string[];
}

/**
 * Marks a provider class as a messaging library. Adding a library = a folder with a module that
 * provides a class decorated with this; the registry discovers it at start.
 */
export const MessagingLibraryProvider =
  DiscoveryService.createDecorator<MessagingLibraryMetadata>();
