import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import type { LineSettingsPatch, StoredLineSettings } from '../../settings/line-settings.store';
import { NAME_PATTERN, NAME_RULE, TEXT_PATTERN, TEXT_RULE } from './api-patterns';

/**
 * The seed's per-user Call Centre settings, named as Creatio's client names them. PUT replaces
 * them all (absent fields are removed); PATCH merges (absent fields are kept, null removes one).
 */
export class LineSettingsDto implements StoredLineSettings {
  @ApiPropertyOptional({
    description:
      'Telephony integration off for this user: the panel shows no call button; REST refuses to originate (409).',
  })
  @IsOptional()
  @IsBoolean({ message: 'disableCallCentre must be true or false' })
  disableCallCentre?: boolean;

  @ApiPropertyOptional({
    description: 'Diagnostic information in the browser console of the panel.',
  })
  @IsOptional()
  @IsBoolean({ message: 'debugMode must be true or false' })
  debugMode?: boolean;

  @ApiPropertyOptional({ description: 'Transfers are blind (default mode of POST .../transfer).' })
  @IsOptional()
  @IsBoolean({ message: 'useBlindTransfer must be true or false' })
  useBlindTransfer?: boolean;

  @ApiPropertyOptional({
    example: 'from-internal',
    description: 'Outgoing-call context of this line; wins over asterisk.originateContext.',
  })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `originateContext must be ${NAME_RULE}` })
  originateContext?: string;

  @ApiPropertyOptional({
    example: '410006e1-ca4e-4502-a9ec-e54d922d2c00',
    description: 'The CRM user bound to the line.',
  })
  @IsOptional()
  @IsString()
  @Matches(TEXT_PATTERN, { message: `userUId must be ${TEXT_RULE}` })
  userUId?: string;
}

/** PATCH body: like LineSettingsDto, and null removes a field. */
export class LineSettingsPatchDto implements LineSettingsPatch {
  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean({ message: 'disableCallCentre must be true, false or null' })
  disableCallCentre?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean({ message: 'debugMode must be true, false or null' })
  debugMode?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean({ message: 'useBlindTransfer must be true, false or null' })
  useBlindTransfer?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'from-internal' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `originateContext must be ${NAME_RULE} or null` })
  originateContext?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @Matches(TEXT_PATTERN, { message: `userUId must be ${TEXT_RULE} or null` })
  userUId?: string | null;
}
