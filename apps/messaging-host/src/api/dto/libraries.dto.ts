import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LibraryDto {
  @ApiProperty({ example: 'asterisk' })
  name!: string;

  @ApiProperty({ type: [String], description: 'Other names a client may load it by.' })
  aliases!: string[];

  @ApiProperty({ description: 'The library messaging.defaultLibrary selects (used by REST).' })
  active!: boolean;

  @ApiProperty({ description: 'Whether it can serve now (e.g. logged in to Asterisk).' })
  ready!: boolean;

  @ApiPropertyOptional({ description: 'Why it is not ready, or a short note.' })
  reason?: string;
}

export class LibraryListDto {
  @ApiProperty({ type: [LibraryDto] })
  libraries!: LibraryDto[];
}
