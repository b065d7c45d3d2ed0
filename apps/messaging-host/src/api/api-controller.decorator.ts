import { UseFilters, UseGuards, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiAuditInterceptor } from './api-audit.interceptor';
import { ApiExceptionFilter } from './api-exception.filter';
import { ApiKeyGuard } from './api-key.guard';
import { ApiValidationPipe } from './api-validation.pipe';

/**
 * What every /api/v1 controller has: API key first (401/403), then the rate limit per key (429),
 * DTO validation (400), the error mapping and an audit line per request.
 */
export function ApiController(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, ThrottlerGuard),
    UsePipes(ApiValidationPipe),
    UseFilters(ApiExceptionFilter),
    UseInterceptors(ApiAuditInterceptor),
  );
}
