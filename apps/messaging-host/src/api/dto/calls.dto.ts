import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import {
  CALL_ID_PATTERN,
  CALL_ID_RULE,
  CONTROL_CHARACTERS,
  DTMF_PATTERN,
  DTMF_RULE,
  LINE_PATTERN,
  LINE_RULE,
  NAME_PATTERN,
  NAME_RULE,
  NUMBER_PATTERN,
  NUMBER_RULE,
  TEXT_PATTERN,
  TEXT_RULE,
  VARIABLE_NAME_PATTERN,
} from './api-patterns';

const MAX_VARIABLES = 32;

function isVariableMap(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return (
    entries.length <= MAX_VARIABLES &&
    entries.every(
      ([k, val]) =>
        VARIABLE_NAME_PATTERN.test(k) &&
        typeof val === 'string' &&
        val.length <= 256 &&
        !CONTROL_CHARACTERS.test(val),
    )
  );
}

export class OriginateCallDto {
  @ApiProperty({ example: '305', description: "The user's line: its phone rings first." })
  @IsString()
  @Matches(LINE_PATTERN, { message: `line must be ${LINE_RULE}` })
  line!: string;

  @ApiProperty({
    example: '+7 (916) 123-45-67',
    description:
      'The number to call, as the CRM shows it (blanks, brackets, dashes and dots are removed), or an extension; an outside number gets the dial rule (asterisk.dialRewrites, dialPrefix) as its Exten.',
  })
  @IsString()
  @Matches(NUMBER_PATTERN, { message: `number must be ${NUMBER_RULE}` })
  number!: string;

  @ApiPropertyOptional({
    example: 'from-internal',
    description:
      "Dialplan context. Default: the line's settings (originateContext), then asterisk.originateContext.",
  })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `context must be ${NAME_RULE}` })
  context?: string;

  @ApiPropertyOptional({ example: '"Sales" <305>', description: 'Caller id of the call.' })
  @IsOptional()
  @IsString()
  @Matches(TEXT_PATTERN, { message: `callerId must be ${TEXT_RULE}` })
  callerId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { CRM_TASK: 'a1b2' },
    description: `Channel variables (at most ${MAX_VARIABLES}; names ${VARIABLE_NAME_PATTERN.source}).`,
  })
  @IsOptional()
  @IsObject()
  @ValidateBy({
    name: 'isVariableMap',
    validator: {
      validate: isVariableMap,
      defaultMessage: () =>
        `variables must map at most ${MAX_VARIABLES} names (letters, digits, _; not starting with a digit) to strings of at most 256 characters without control characters`,
    },
  })
  variables?: Record<string, string>;
}

export class CallIdParams {
  @IsString()
  @Matches(CALL_ID_PATTERN, { message: `id must be ${CALL_ID_RULE}` })
  id!: string;
}

export class ListCallsQuery {
  @ApiPropertyOptional({ example: '305', description: 'Only the calls of this line.' })
  @IsOptional()
  @IsString()
  @Matches(LINE_PATTERN, { message: `line must be ${LINE_RULE}` })
  line?: string;
}

export class TransferCallDto {
  @ApiProperty({ example: '306', description: 'Where the call goes (Exten).' })
  @IsString()
  @Matches(NUMBER_PATTERN, { message: `target must be ${NUMBER_RULE}` })
  target!: string;

  @ApiPropertyOptional({
    enum: ['blind', 'attended'],
    description:
      "blind: the call goes to the target at once. attended: a consultation call to the target starts; complete or cancel it. Default: the line's useBlindTransfer setting (blind when true, attended otherwise).",
  })
  @IsOptional()
  @IsIn(['blind', 'attended'], { message: 'mode must be blind or attended' })
  mode?: 'blind' | 'attended';
}

export class ConsultCallDto {
  @ApiProperty({ description: 'The consultation call that POST .../transfer (attended) started.' })
  @IsString()
  @Matches(CALL_ID_PATTERN, { message: `consultCallId must be ${CALL_ID_RULE}` })
  consultCallId!: string;
}

export class DtmfDto {
  @ApiProperty({ example: '1#', description: 'Digits to send on the call.' })
  @IsString()
  @Matches(DTMF_PATTERN, { message: `digits must be ${DTMF_RULE}` })
  digits!: string;
}
