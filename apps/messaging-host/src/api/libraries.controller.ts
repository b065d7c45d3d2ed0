import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MessagingRegistry } from '@app/messaging';
import { ApiController } from './api-controller.decorator';
import { ApiErrors } from './api-responses.decorator';
import { RequireScope } from './api-scopes.decorator';
import { LibraryListDto } from './dto/libraries.dto';

@ApiTags('libraries')
@ApiController()
@Controller('api/v1/libraries')
export class LibrariesController {
  constructor(private readonly registry: MessagingRegistry) {}

  @Get()
  @RequireScope('read', 'calls', 'settings')
  @ApiOperation({ summary: 'The registered messaging libraries and which one is active' })
  @ApiResponse({ status: 200, type: LibraryListDto })
  @ApiErrors()
  list(): LibraryListDto {
    return {
      libraries: this.registry.list().map((l) => {
        const r = this.registry.resolve(l.name)!.readiness();
        return { ...l, ready: r.ready, ...(r.reason ? { reason: r.reason } : {}) };
      }),
    };
  }
}
