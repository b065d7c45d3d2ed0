import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CallDirection, CallState, type Call } from '@app/messaging';

/** A call as one line sees it: the same object the CTI panel gets (PROTOCOL.md, "Call object"). */
export class CallDto implements Call {
  @ApiProperty({
    description: 'Stable for the whole life of the call, hold and transfer included.',
  })
  id!: string;

  @ApiProperty({ example: '305', description: "The user's line." })
  deviceId!: string;

  @ApiProperty({ example: '305' })
  callerId!: string;

  @ApiProperty({ example: '79001234567' })
  calledId!: string;

  @ApiProperty({
    enum: CallDirection,
    description: 'IN, OUT or UNKNOWN as the protocol GUIDs.',
  })
  direction!: CallDirection;

  @ApiProperty({
    enum: CallState,
    enumName: 'CallState',
    description: '0 NONE, 1 ALERTING, 2 CONNECTED, 3 HOLDED, 4 CONFERENCED, 5 UNKNOWN, 6 BUSY',
  })
  state!: CallState;

  @ApiProperty({ enum: CallState, enumName: 'CallState' })
  oldState!: CallState;

  @ApiProperty({ description: 'Bit set of the buttons the panel offers (CallFeature).' })
  callFeaturesSet!: number;

  @ApiPropertyOptional()
  databaseUId?: string;

  @ApiPropertyOptional()
  userContactUId?: string;

  @ApiPropertyOptional({ description: 'Extra data (packetInfoConfig), JSON text.' })
  callContext?: string;

  @ApiPropertyOptional()
  callContextType?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  startTime?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  endTime?: string;

  @ApiPropertyOptional()
  redirectingId?: string;

  @ApiPropertyOptional()
  redirectionId?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  timeStamp?: string;
}

export class CallListDto {
  @ApiProperty({ type: [CallDto] })
  calls!: CallDto[];
}

export class CrmSaveStatusDto {
  @ApiProperty({
    enum: ['pending', 'saved', 'failed', 'off', 'elsewhere'],
    description:
      'pending: changes wait for the CRM; saved: every change is in the CRM; failed: changes were given up (lastError says why); off: calls of this line are not saved (lastError says why); elsewhere: another node saves it.',
  })
  state!: 'pending' | 'saved' | 'failed' | 'off' | 'elsewhere';

  @ApiPropertyOptional({ description: "The call's record in the CRM." })
  databaseUId?: string;

  @ApiProperty({ description: 'Changes of the call waiting to be saved.' })
  pending!: number;

  @ApiPropertyOptional({ description: 'Failed tries of the change being sent now.' })
  attempts?: number;

  @ApiPropertyOptional({
    description: 'The last error (of the last try, or why it failed or is off).',
  })
  lastError?: string;
}

export class CallWithLineDto {
  @ApiProperty({ example: '305' })
  line!: string;

  @ApiProperty({ type: CallDto })
  call!: CallDto;

  @ApiPropertyOptional({
    type: CrmSaveStatusDto,
    description: 'How the call is saved in the CRM (absent when this node does not save it).',
  })
  crm?: CrmSaveStatusDto;
}

export class OriginatedCallDto {
  @ApiProperty({ description: 'The call id, as the CTI panel of the line will see it.' })
  id!: string;

  @ApiProperty({ example: '305' })
  line!: string;

  @ApiProperty({ example: 'from-internal', description: 'The dialplan context used.' })
  context!: string;

  @ApiProperty({ type: CallDto })
  call!: CallDto;
}

export class HoldResultDto {
  @ApiProperty({ type: CallDto })
  call!: CallDto;

  @ApiPropertyOptional({
    example: '701',
    description: 'The parking space the remote party waits in (hold by parking).',
  })
  parkingSpace?: string;
}

export class TransferResultDto {
  @ApiProperty({ enum: ['blind', 'attended'] })
  mode!: 'blind' | 'attended';

  @ApiProperty({ description: 'The transferred call.' })
  callId!: string;

  @ApiProperty({ example: '306' })
  target!: string;

  @ApiPropertyOptional({
    type: CallDto,
    description:
      'Attended: the consultation call to the target; complete with POST .../transfer/complete.',
  })
  consultCall?: CallDto;
}
