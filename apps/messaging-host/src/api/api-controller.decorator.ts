import { UseFilters, UseGuards, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiAuditInterceptor } from './api-audit.interceptor';
import { ApiBodyGuard } from './api-body.guard';
import { ApiExceptionFilter } from './api-exception.filter';
import { ApiKeyGuard } from './api-key.guard';
import { ApiValidationPipe } from './api-validation.pipe';

/**
 * What every /api/v1 controller has: API key first (401/403, 429 for an address guessing keys),
 * then the rate limit per key (429), then the body (415/413/408/400: read only now), DTO
 * validation (400), the error mapping and an audit line per request.
 */
export function ApiController(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, ThrottlerGuard, ApiBodyGuard),
    UsePipes(ApiValidationPipe),
    UseFilters(ApiExceptionFilter),
    UseInterceptors(ApiAuditInterceptor),
  );
}
