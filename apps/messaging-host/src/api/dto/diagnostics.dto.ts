import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class GatewaySizesDto {
  @ApiProperty({ description: 'Open client sockets (WebSocket and SignalR).' })
  sockets!: number;

  @ApiProperty({ description: 'Lines bound to a user on this node.' })
  lines!: number;

  @ApiProperty({ description: 'Sockets watching a bound line (tabs).' })
  members!: number;

  @ApiProperty({ description: 'SignalR negotiations not yet followed by their WebSocket.' })
  negotiations!: number;
}

export class CrmSizesDto {
  @ApiProperty({ description: "Changes waiting in this node's CRM outbox." })
  outboxDepth!: number;

  @ApiProperty({ description: 'Calls this node is saving (active, or with changes waiting).' })
  calls!: number;

  @ApiProperty({ description: 'Requests to the CRM in flight.' })
  inFlight!: number;
}

export class ProcessSizesDto {
  @ApiProperty()
  rssBytes!: number;

  @ApiProperty({ description: 'V8 heap in use (not after a GC: it includes garbage).' })
  heapUsedBytes!: number;

  @ApiProperty()
  externalBytes!: number;

  @ApiProperty({ description: 'Handles and requests keeping the event loop alive.' })
  activeResources!: number;
}

export class DiagnosticsSizesDto {
  @ApiProperty({ example: 'asterisk', description: 'The active messaging library.' })
  library!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { channels: 0, calls: 0, pendingActions: 0 },
    description: "The library's live internal objects by name.",
  })
  sizes!: Record<string, number>;

  @ApiProperty({ type: GatewaySizesDto })
  gateway!: GatewaySizesDto;

  @ApiPropertyOptional({ type: CrmSizesDto, description: 'When the CRM module runs.' })
  crm?: CrmSizesDto;

  @ApiProperty({ type: ProcessSizesDto })
  process!: ProcessSizesDto;
}
