import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AmiClientOptions } from '@app/ami';
import type { LineRules } from './asterisk.types';
import type { AnswerOptions } from './core/answer-mode';
import type { DialRule } from './core/dial-number';

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
  /** Trunks, never lines (asterisk.trunks), and the only lines when set (asterisk.lines). Default: FreePBX's trunk contexts. */
  lineRules?: LineRules;
  /** Outside numbers: rewrites and prefix (asterisk.dialRewrites, dialPrefix, outsideNumberMinLength). Default: none. */
  dialRule?: DialRule;
  /** Answering from the CRM (asterisk.answerMode ...). Default: mode none. */
  answer?: AnswerOptions;
  /**
   * An answered originate whose line dials nothing within this time is CONNECTED (a call to an
   * application); one that dials is CONNECTED when its far end answers. Default 1000 ms.
   */
  originateSettleMs?: number;
  /** A failed resync is tried again after this delay, doubling up to resyncRetryMaxMs. Default 500. */
  resyncRetryMinMs?: number;
  /** Default 10000. */
  resyncRetryMaxMs?: number;
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
