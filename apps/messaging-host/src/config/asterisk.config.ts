/**
 * The `asterisk` block: the seed's keys (Creatio 7.16 guide) key for key, our transport keys, and
 * the site's telephony rules (trunks apart from lines, the dial rule for outside numbers, answering
 * from the CRM). String booleans and numbers are accepted as the original's appsettings.json writes them.
 */
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import {
  ANSWER_MODES,
  FREEPBX_TRUNKS,
  answerHeaderProblem,
  dialRewriteProblem,
  linePatternProblem,
  type AnswerMode,
} from '@app/asterisk';
import { EachEntry, PacketInfoSyntax } from './config.checks';
import {
  ExistingFile,
  NotAbove,
  Sensitive,
  ToBoolean,
  ToNumber,
  ToStringList,
  Trim,
} from './config.decorators';

/**
 * The seed's `asterisk` block, key for key (Creatio 7.16 guide), plus our own transport keys.
 * String booleans and numbers are accepted as the original's appsettings.json writes them.
 */
export class AsteriskConfig {
  /** Address of the Asterisk server (AMI). Not needed when replaying a scenario file. */
  @Trim()
  @ValidateIf((o: AsteriskConfig) => !o.filePath)
  @IsString()
  @IsNotEmpty({ message: 'must name the Asterisk host (or set asterisk.filePath to replay)' })
  url = '127.0.0.1';

  @ToNumber()
  @IsInt({ message: 'must be an integer port from 1 to 65535' })
  @Min(1, { message: 'must be an integer port from 1 to 65535' })
  @Max(65535, { message: 'must be an integer port from 1 to 65535' })
  port = 5038;

  @Trim()
  @ValidateIf((o: AsteriskConfig) => !o.filePath)
  @IsString()
  @IsNotEmpty({ message: 'must name the AMI user of manager.conf' })
  userName = '';

  @Sensitive()
  @IsString()
  secret = '';

  /** Dialplan context the operator's line is originated into for an outgoing call. */
  @Trim()
  @IsString()
  @IsNotEmpty()
  originateContext = 'from-internal';

  /** Context used to take a parked call back; empty means originateContext. */
  @Trim()
  @IsString()
  parkingLotContext = '';

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  autoPauseOnCommutationStart = true;

  @Trim()
  @IsString()
  @Matches(/\{0\}/, { message: 'must contain {0} where the line goes' })
  queueExtensionFormat = 'Local/{0}@from-queue/n';

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  asyncOriginate = true;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  sendRingStartedOnRingingState = true;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  traceQueuesState = false;

  @Trim()
  @IsString()
  @Matches(/^[A-Za-z0-9]+\/$/, {
    message: 'must be a channel technology ending in "/", e.g. "SIP/" or "PJSIP/"',
  })
  protocol = 'SIP/';

  @IsString()
  @PacketInfoSyntax()
  packetInfoConfig = '';

  /** A scenario file to replay instead of connecting (diagnostics). Empty: connect. */
  @Trim()
  @IsString()
  @ExistingFile()
  filePath = '';

  // --- ours, beyond the seed ---

  /** AMI over TLS. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  tls = false;

  /** Verify the server certificate when tls is on. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  tlsRejectUnauthorized = true;

  /** plain: Login with the secret; md5: Challenge then Login with AuthType md5. */
  @IsIn(['plain', 'md5'])
  authType: 'plain' | 'md5' = 'plain';

  @ToNumber()
  @IsInt()
  @Min(100)
  connectTimeoutMs = 5000;

  @ToNumber()
  @IsInt()
  @Min(100)
  actionTimeoutMs = 10000;

  /** Ping every this many ms; 0 turns keepalive off. */
  @ToNumber()
  @IsInt()
  @Min(0)
  pingIntervalMs = 15000;

  /** No answer to a Ping within this many ms: the peer is dead. */
  @ToNumber()
  @IsInt()
  @Min(100)
  pingTimeoutMs = 5000;

  @ToNumber()
  @IsInt()
  @Min(10)
  @NotAbove('reconnectMaxDelayMs')
  reconnectMinDelayMs = 500;

  @ToNumber()
  @IsInt()
  @Min(10)
  reconnectMaxDelayMs = 10000;

  /** The largest AMI packet accepted; larger is a protocol error and the connection is reset. */
  @ToNumber()
  @IsInt()
  @Min(1024)
  maxPacketBytes = 1024 * 1024;

  /** Replay pace: 1 is the recorded pace, 2 twice as fast, 0 as fast as possible. */
  @ToNumber()
  @IsNumber()
  @Min(0)
  replaySpeed = 1;

  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  replayLoop = false;

  // --- the site's telephony rules ---

  /**
   * Endpoints that are trunks, never operators' lines: names or glob patterns (`provider`,
   * `trunk-*`), or `context:<glob>` for endpoints whose channels start in that context.
   */
  @ToStringList()
  @IsString({ each: true })
  @EachEntry((e) => linePatternProblem(e, true))
  trunks: string[] = [...FREEPBX_TRUNKS];

  /** When set: the only endpoints that are operators' lines (names or glob patterns). */
  @ToStringList()
  @IsString({ each: true })
  @EachEntry((e) => linePatternProblem(e, false))
  lines: string[] = [];

  /** Added before an outside number (e.g. `9` when the dialplan takes outside lines with 9). */
  @Trim()
  @IsString()
  @Matches(/^[0-9*#+]*$/, { message: 'must be digits (with + * #) or empty' })
  dialPrefix = '';

  /** `from=to` prefix rewrites of an outside number, first match wins (e.g. `+7=8`). */
  @ToStringList()
  @IsString({ each: true })
  @EachEntry(dialRewriteProblem)
  dialRewrites: string[] = [];

  /** A number of at least this many digits, or one with a leading +, is an outside number. */
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(32)
  outsideNumberMinLength = 7;

  /** How AnswerCall makes the phone answer: none, pjsip-notify, sip-notify, header. */
  @Trim()
  @IsIn(ANSWER_MODES, { message: `must be one of ${ANSWER_MODES.join(', ')}` })
  @ValidateBy({
    name: 'answerModeProtocol',
    validator: {
      validate: (v: unknown, args) => {
        const protocol = String((args?.object as AsteriskConfig).protocol).toUpperCase();
        if (v === 'pjsip-notify') return protocol === 'PJSIP/';
        if (v === 'sip-notify') return protocol === 'SIP/';
        return true;
      },
      defaultMessage: (args) =>
        `${String(args?.value)} needs @.protocol ${args?.value === 'sip-notify' ? 'SIP/' : 'PJSIP/'} (the lines' technology is ${String((args?.object as AsteriskConfig).protocol)})`,
    },
  })
  answerMode: AnswerMode = 'none';

  /** pjsip-notify: a pjsip_notify.conf section to send instead of `Event: talk`. */
  @Trim()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]*$/, { message: 'must be a pjsip_notify.conf section name or empty' })
  answerNotifyOption = '';

  /** header: the SIP headers a click-to-call INVITE to the operator's phone carries. */
  @ToStringList()
  @IsString({ each: true })
  @EachEntry(answerHeaderProblem)
  answerHeaders: string[] = [
    'Call-Info: <sip:autoanswer>;answer-after=0',
    'Alert-Info: info=alert-autoanswer',
  ];

  /** parkingLotContext as the seed defines it: empty means originateContext. */
  effectiveParkingLotContext(): string {
    return this.parkingLotContext || this.originateContext;
  }
}
