import { Body, Controller, Get, HttpCode, HttpStatus, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiController } from './api-controller.decorator';
import { ApiMessagingService } from './api-messaging.service';
import { ApiErrors } from './api-responses.decorator';
import { RequireScope } from './api-scopes.decorator';
import { LineParams, LineStatusDto, QueuePauseDto, QueuePauseResultDto } from './dto/lines.dto';

export const LINE_PARAM = ApiParam({
  name: 'line',
  example: '305',
  description: 'The user\'s line: "305" for SIP/305, "office" for SIP/office.',
});

@ApiTags('lines')
@ApiController()
@Controller('api/v1/lines')
export class LinesController {
  constructor(private readonly messaging: ApiMessagingService) {}

  @Get(':line')
  @RequireScope('read', 'calls')
  @LINE_PARAM
  @ApiOperation({ summary: 'A line: bound user, calls, queue membership and pause state' })
  @ApiResponse({ status: 200, type: LineStatusDto })
  @ApiErrors(400, 404, 503)
  async get(@Param() p: LineParams): Promise<LineStatusDto> {
    const { status, settings } = await this.messaging.lineStatus(p.line);
    return {
      line: status.line,
      userUId: settings?.userUId ?? null,
      calls: status.calls,
      queues: status.queues,
      paused: status.queues.some((q) => q.paused),
      agentState: status.agentState,
      settings: settings ?? null,
    };
  }

  @Put(':line/queue-pause')
  @HttpCode(HttpStatus.OK)
  @RequireScope('calls')
  @LINE_PARAM
  @ApiOperation({
    summary: 'Pause or unpause the line in its queues (QueuePause)',
    description: 'In one queue, or in every queue of the line when `queue` is omitted.',
  })
  @ApiResponse({ status: 200, type: QueuePauseResultDto })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async queuePause(
    @Param() p: LineParams,
    @Body() dto: QueuePauseDto,
  ): Promise<QueuePauseResultDto> {
    const queues = await this.messaging.setQueuePause(p.line, dto.paused, dto.reason, dto.queue);
    return { line: p.line, queues };
  }
}
