import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NUMBER_RULE } from './api-patterns';

/** Every 4xx/5xx answer of /api/v1 has this shape. */
export class ApiErrorDto {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found', description: 'The HTTP reason phrase.' })
  error!: string;

  @ApiProperty({ example: 'no active call with id 1700000000.42' })
  message!: string;

  @ApiPropertyOptional({
    example: 'NO_SUCH_CALL',
    description:
      'Machine-readable cause: a MessagingErrorCode (NO_SUCH_CALL, INVALID_STATE, ACTION_FAILED, NOT_CONNECTED, ...), ' +
      'VALIDATION_FAILED, UNAUTHORIZED, FORBIDDEN, RATE_LIMITED, STORE_UNAVAILABLE, UNKNOWN_LINE, NO_SETTINGS.',
  })
  code?: string;

  @ApiPropertyOptional({
    example: 'Channel not found',
    description: "The PBX's own message when it refused the action (502).",
  })
  detail?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['number', 'foo'],
    description: 'The request fields that were wrong (400).',
  })
  fields?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: [`number: must be ${NUMBER_RULE}`, 'foo: unknown field'],
    description: 'One line per problem (400).',
  })
  errors?: string[];
}
