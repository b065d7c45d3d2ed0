import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AmiClientOptions } from '@app/ami';

/** A Nest-style logger the library writes to (Nest's `Logger` satisfies it). */
export interface AsteriskLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** Everything the Asterisk library needs: the AMI connection and the seed's `asterisk` keys. */
export interface AsteriskLibraryOptions {
  /** The AMI connection (host, port, credentials, timeouts, reconnect, replay). */
  ami: AmiClientOptions;
  /** Channel technology of the users' lines: 'SIP/' or 'PJSIP/'. */
  protocol: string;
  /** Dialplan context an outgoing call (MakeCall, transfers) is originated into. */
  originateContext: string;
  /** Context that takes a parked call back (Exten = the parking space). */
  parkingLotContext: string;
  /** Pause the line's member interface in all queues when a call connects; unpause when idle. */
  autoPauseOnCommutationStart: boolean;
  /** Queue member interface of a line, `{0}` = the line. */
  queueExtensionFormat: string;
  /** Originate with `Async: true` (the action answers at once; OriginateResponse tells the outcome). */
  asyncOriginate: boolean;
  /** Show a ringing call on Newstate Ringing (true) or on DialBegin (false). */
  sendRingStartedOnRingingState: boolean;
  /** Log every queue member change of a line. */
  traceQueuesState: boolean;
  /** Headers / channel variables copied into the Call's callContext (docs/asterisk.md). */
  packetInfoConfig: string;
  /** Ring time of an Originate (ms). Default 30000. */
  originateTimeoutMs?: number;
  /** How long a command waits for Asterisk's events (the parked call, the consult call). Default 10000. */
  commandTimeoutMs?: number;
  /** Where the library logs; default Nest's Logger('AsteriskLibrary'). */
  logger?: AsteriskLogger;
}

export const {
  ConfigurableModuleClass: AsteriskConfigurableModule,
  MODULE_OPTIONS_TOKEN: ASTERISK_LIBRARY_OPTIONS,
} = new ConfigurableModuleBuilder<AsteriskLibraryOptions>({ moduleName: 'Asterisk' })
  .setClassMethodName('forRoot')
  .build();
