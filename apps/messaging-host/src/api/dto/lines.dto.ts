import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { CallDto } from './call.dto';
import { LineSettingsDto } from './settings.dto';
import {
  LINE_PATTERN,
  LINE_RULE,
  NAME_PATTERN,
  NAME_RULE,
  TEXT_PATTERN,
  TEXT_RULE,
} from './api-patterns';

export class LineParams {
  @IsString()
  @Matches(LINE_PATTERN, { message: `line must be ${LINE_RULE}` })
  line!: string;
}

export class QueuePauseDto {
  @ApiProperty({ description: 'true pauses the line, false unpauses it.' })
  @IsBoolean({ message: 'paused must be true or false' })
  paused!: boolean;

  @ApiPropertyOptional({ example: 'lunch', description: 'Pause reason shown in queue logs.' })
  @IsOptional()
  @IsString()
  @Matches(TEXT_PATTERN, { message: `reason must be ${TEXT_RULE}` })
  reason?: string;

  @ApiPropertyOptional({
    example: 'support',
    description: 'One queue; default: all queues of the line.',
  })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `queue must be ${NAME_RULE}` })
  queue?: string;
}

export class QueueMembershipDto {
  @ApiProperty({ example: 'support' })
  queue!: string;

  @ApiProperty({ example: 'Local/305@from-queue/n' })
  memberInterface!: string;

  @ApiProperty()
  paused!: boolean;

  @ApiPropertyOptional()
  pausedReason?: string;

  @ApiPropertyOptional({ description: "Asterisk's device status of the member (0..8)." })
  status?: number;

  @ApiPropertyOptional()
  inCall?: boolean;
}

export class AgentStateDto {
  @ApiProperty({ example: 'Active' })
  code!: string;

  @ApiPropertyOptional()
  reason?: string;

  @ApiProperty()
  wrapUp!: boolean;

  @ApiProperty({ description: 'Whether the line is paused in its queues now.' })
  paused!: boolean;
}

export class LineStatusDto {
  @ApiProperty({ example: '305' })
  line!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The CRM user bound to the line (settings userUId), null when none.',
  })
  userUId!: string | null;

  @ApiProperty({ type: [CallDto] })
  calls!: CallDto[];

  @ApiProperty({ type: [QueueMembershipDto] })
  queues!: QueueMembershipDto[];

  @ApiProperty({ description: 'true when paused in at least one queue.' })
  paused!: boolean;

  @ApiProperty({ type: AgentStateDto })
  agentState!: AgentStateDto;

  @ApiProperty({
    type: LineSettingsDto,
    nullable: true,
    description: 'Stored settings, null when none.',
  })
  settings!: LineSettingsDto | null;
}

export class QueuePauseResultDto {
  @ApiProperty({ example: '305' })
  line!: string;

  @ApiProperty({ type: [QueueMembershipDto], description: 'The memberships after the change.' })
  queues!: QueueMembershipDto[];
}
