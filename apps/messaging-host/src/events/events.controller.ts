// GET /api/v1/events: the event stream for CRM processes and tools (Server-Sent Events), with the
// API key of every /api/v1 route (scope read or calls); `?line=` narrows it, `?raw=true` adds RAW.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiController } from '../api/api-controller.decorator';
import type { RequestWithCaller } from '../api/api-key.guard';
import { ApiErrors } from '../api/api-responses.decorator';
import { RequireScope } from '../api/api-scopes.decorator';
import { LINE_PATTERN, LINE_RULE } from '../api/dto/api-patterns';
import { EventStreamService } from './event-stream.service';

/** The most lines one stream may name. */
export const MAX_STREAM_LINES = 200;

type StreamRequest = IncomingMessage &
  RequestWithCaller & { query: Record<string, string | string[] | undefined> };

/** `line` (repeated, or comma-separated) and `raw` of the query; 400 naming what is wrong. */
export function streamFilter(query: Record<string, unknown>): {
  lines: string[] | null;
  raw: boolean;
} {
  const unknown = Object.keys(query).filter((k) => k !== 'line' && k !== 'raw');
  if (unknown.length > 0) {
    throw new BadRequestException({
      message: `unknown query parameter: ${unknown.map((k) => k.slice(0, 40)).join(', ')}`,
      code: 'VALIDATION_FAILED',
    });
  }
  const raw = query['raw'];
  const rawText = Array.isArray(raw) ? raw.at(-1) : raw;
  if (rawText !== undefined && !['true', 'false', '1', '0'].includes(String(rawText))) {
    throw new BadRequestException({
      message: 'raw must be true or false',
      code: 'VALIDATION_FAILED',
    });
  }
  const wantRaw = rawText === 'true' || rawText === '1';
  const given = query['line'];
  if (given === undefined) {
    if (wantRaw) {
      throw new BadRequestException({
        message: 'raw=true needs the lines it is for: ?line=305&raw=true',
        code: 'VALIDATION_FAILED',
      });
    }
    return { lines: null, raw: false };
  }
  const lines = [
    ...new Set(
      (Array.isArray(given) ? given : [given])
        .flatMap((v) => String(v).split(','))
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    ),
  ];
  const bad = lines.filter((l) => !LINE_PATTERN.test(l));
  if (lines.length === 0 || bad.length > 0) {
    throw new BadRequestException({
      message: `line must be ${LINE_RULE}${bad.length ? `: got ${bad.map((b) => JSON.stringify(b.slice(0, 70))).join(', ')}` : ''}`,
      code: 'VALIDATION_FAILED',
    });
  }
  if (lines.length > MAX_STREAM_LINES) {
    throw new BadRequestException({
      message: `at most ${MAX_STREAM_LINES} lines per stream (got ${lines.length}); leave line out for every line`,
      code: 'VALIDATION_FAILED',
    });
  }
  return { lines, raw: wantRaw };
}

@ApiTags('events')
@ApiController()
@Controller('api/v1/events')
export class EventsController {
  constructor(private readonly stream: EventStreamService) {}

  @Get()
  @RequireScope('read', 'calls')
  @ApiOperation({
    summary: 'Event stream (Server-Sent Events): call events and line state, live',
    description:
      "Events: `hello` (node, library, AMI, the lines and their state), then `call` (events 5-9, 13, 17 with the call), `lineState` (11), `agentState` (12), `error` (3), `line` (a line's calls, queues, pause and agent state after a change), `status` (library and AMI), and `raw` (RAW AMI packets, with raw=true). Each data is one JSON object; `seq` orders them on this node. A reader that lets more than server.maxBufferedBytes wait is disconnected.",
  })
  @ApiQuery({
    name: 'line',
    required: false,
    description: 'Only these lines (repeat it, or separate by commas); default every line.',
  })
  @ApiQuery({
    name: 'raw',
    required: false,
    description: "true: also the lines' RAW AMI packets (needs line).",
  })
  @ApiResponse({
    status: 200,
    description: 'The stream, until either side closes it.',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(400, 503)
  events(@Req() req: StreamRequest, @Res() res: ServerResponse): void {
    const filter = streamFilter(req.query);
    this.stream.open(res, {
      ...filter,
      caller: req.apiCaller ?? { name: '?', scopes: new Set() },
      peer: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
    });
  }
}
