import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ApiModule } from './api.module';
import { API_KEY_SCHEME } from './api-scopes.decorator';

export const API_DOCS_PATH = 'api/docs';

/** The OpenAPI document of /api/v1 (every route with its 4xx/5xx). */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Messaging Host REST API')
    .setDescription(
      'For CRM back-end processes: originate, hold (park) and unhold, hang up, transfer, DTMF, queue pause, ' +
        'active calls, per-line settings. Authenticate with `Authorization: Bearer <key>` (api.keys holds ' +
        'the SHA-256 of each key with its scopes: read, calls, settings). Errors have the ApiErrorDto shape.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'An API key whose SHA-256 is in api.keys.',
      },
      API_KEY_SCHEME,
    )
    .build();
  return SwaggerModule.createDocument(app, config, {
    include: [ApiModule],
    operationIdFactory: (controllerKey: string, methodKey: string) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}

/** Serves the document at /api/docs-json and the Swagger UI at /api/docs (call before listen). */
export function setupApiDocs(app: INestApplication): void {
  SwaggerModule.setup(API_DOCS_PATH, app, () => buildApiDocument(app), {
    jsonDocumentUrl: `${API_DOCS_PATH}-json`,
    yamlDocumentUrl: `${API_DOCS_PATH}-yaml`,
  });
}
