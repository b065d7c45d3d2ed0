/**
 * GET /api/v1/diagnostics/sizes: the service's internal sizes (the active library's calls,
 * channels and pending actions, the gateway's sockets and lines, the CRM outbox) and the process memory, so that
 * an admin or a soak test can tell that what grows with calls goes back to idle.
 */
import { Controller, Get } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MessagingRegistry } from '@app/messaging';
import { CrmMetrics } from '../crm/crm-metrics';
import { ClientGateway } from '../gateway/client-gateway.service';
import { ApiController } from './api-controller.decorator';
import { ApiErrors } from './api-responses.decorator';
import { RequireScope } from './api-scopes.decorator';
import { DiagnosticsSizesDto } from './dto/diagnostics.dto';

@ApiTags('diagnostics')
@ApiController()
@Controller('api/v1/diagnostics')
export class DiagnosticsController {
  constructor(
    private readonly registry: MessagingRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** A provider of the app when it has one (the API alone, in tests, has no gateway nor CRM). */
  private find<T>(type: new (...args: never[]) => T): T | undefined {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return undefined;
    }
  }

  @Get('sizes')
  @RequireScope('read')
  @ApiOperation({
    summary: 'Internal sizes: live calls, channels, pending actions, sockets, bound lines',
    description:
      'Each number is back to its idle value (0 for calls and pending actions) when no call is up ' +
      'and no panel is connected; one that keeps growing is a leak.',
  })
  @ApiResponse({ status: 200, type: DiagnosticsSizesDto })
  @ApiErrors()
  sizes(): DiagnosticsSizesDto {
    const library = this.registry.active();
    const g = this.find(ClientGateway)?.stats() ?? { sockets: 0, lines: [], negotiations: 0 };
    const crm = this.find(CrmMetrics)?.snapshot();
    const mem = process.memoryUsage();
    return {
      library: this.registry.activeName(),
      sizes: library.internalSizes(),
      gateway: {
        sockets: g.sockets,
        lines: g.lines.length,
        members: g.lines.reduce((n, l) => n + l.members, 0),
        negotiations: g.negotiations,
      },
      ...(crm
        ? { crm: { outboxDepth: crm.outboxDepth, calls: crm.calls, inFlight: crm.inFlight } }
        : {}),
      process: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        externalBytes: mem.external,
        activeResources: process.getActiveResourcesInfo().length,
      },
    };
  }
}
