import { UseFilters, UseGuards, UsePipes, applyDecorators } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiExceptionFilter } from './api-exception.filter';
import { ApiKeyGuard } from './api-key.guard';
import { ApiValidationPipe } from './api-validation.pipe';

/**
 * What every /api/v1 controller has: API key first (401/403), then the rate limit per key (429),
 * DTO validation (400) and the error mapping.
 */
export function ApiController(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, ThrottlerGuard),
    UsePipes(ApiValidationPipe),
    UseFilters(ApiExceptionFilter),
  );
}
