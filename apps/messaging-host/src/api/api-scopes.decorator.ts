import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { ApiScope } from '../config/app-config';

/** The name of the bearer scheme in the OpenAPI document. */
export const API_KEY_SCHEME = 'api-key';

/** Metadata: a request needs an API key with any one of these scopes. */
export const RequiredScopes = Reflector.createDecorator<readonly ApiScope[]>();

/** The route needs an API key holding one of `scopes` (403 otherwise). */
export function RequireScope(...scopes: ApiScope[]): MethodDecorator & ClassDecorator {
  return applyDecorators(RequiredScopes(scopes), ApiBearerAuth(API_KEY_SCHEME));
}
