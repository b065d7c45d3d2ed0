import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { MessagingCommandError, MessagingErrorCode, MessagingRegistryError } from '@app/messaging';
import { LineSettingsStoreError } from '../settings/line-settings.store';
import { hasBody } from './api-body-reader';
import type { ApiErrorDto } from './dto/error.dto';

/** The HTTP status of each messaging error code (the edge where library errors become HTTP). */
export const MESSAGING_ERROR_STATUS: Readonly<Record<MessagingErrorCode, number>> = {
  [MessagingErrorCode.NoSuchCall]: HttpStatus.NOT_FOUND,
  [MessagingErrorCode.WrongLine]: HttpStatus.NOT_FOUND,
  [MessagingErrorCode.InvalidArgument]: HttpStatus.BAD_REQUEST,
  [MessagingErrorCode.InvalidState]: HttpStatus.CONFLICT,
  [MessagingErrorCode.LineClosed]: HttpStatus.CONFLICT,
  [MessagingErrorCode.ActionFailed]: HttpStatus.BAD_GATEWAY,
  [MessagingErrorCode.OriginateFailed]: HttpStatus.BAD_GATEWAY,
  [MessagingErrorCode.NotConnected]: HttpStatus.SERVICE_UNAVAILABLE,
  [MessagingErrorCode.NotImplemented]: HttpStatus.NOT_IMPLEMENTED,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

interface HttpRequestLike {
  method: string;
  originalUrl?: string;
  url: string;
  apiCaller?: { name: string };
  /** Whether the whole request (its body too) was read. */
  complete?: boolean;
  headers?: Record<string, string | string[] | undefined>;
}

interface HttpResponseLike {
  status(code: number): HttpResponseLike;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  headersSent?: boolean;
}

/**
 * Every error of /api/v1 as ApiErrorDto: library errors by their code (404, 400, 409, 502 with
 * the PBX's message, 503, 501), store errors 503, framework errors as they are; anything else 500
 * without its message (logged here instead).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponseLike>();
    const req = host.switchToHttp().getRequest<HttpRequestLike>();
    const body = this.toBody(exception);
    const what = `${req.method} ${req.originalUrl ?? req.url} by '${req.apiCaller?.name ?? '?'}' -> ${body.statusCode}`;
    if (body.statusCode >= 500) this.logger.warn(`${what}: ${body.message}`);
    else this.logger.log(`${what} ${body.code ?? ''}`.trimEnd());
    if (body.statusCode === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="messaging-host"');
    if (res.headersSent) return;
    // A refusal before the body was read (no key, no scope, too large ...): the body is never
    // read, so the connection cannot carry another request.
    if (req.complete === false && req.headers && hasBody({ headers: req.headers })) {
      res.setHeader('Connection', 'close');
    }
    res.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ApiErrorDto {
    if (exception instanceof MessagingCommandError) {
      const statusCode = MESSAGING_ERROR_STATUS[exception.code] ?? 500;
      return {
        statusCode,
        error: REASON[statusCode] ?? 'Error',
        message: exception.message,
        code: exception.code,
        ...(exception.detail ? { detail: exception.detail } : {}),
      };
    }
    if (exception instanceof LineSettingsStoreError) {
      return {
        statusCode: 503,
        error: REASON[503]!,
        message: exception.message,
        code: exception.code,
      };
    }
    if (exception instanceof MessagingRegistryError) {
      return {
        statusCode: 503,
        error: REASON[503]!,
        message: exception.message,
        code: exception.code,
      };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const r = exception.getResponse();
      const out: ApiErrorDto = {
        statusCode,
        error: REASON[statusCode] ?? exception.name,
        message: exception.message,
      };
      if (typeof r === 'string') out.message = r;
      else if (typeof r === 'object' && r !== null) {
        const o = r as Record<string, unknown>;
        if (typeof o['message'] === 'string') out.message = o['message'];
        else if (Array.isArray(o['message'])) out.message = o['message'].join('; ');
        if (typeof o['code'] === 'string') out.code = o['code'];
        if (Array.isArray(o['fields'])) out.fields = o['fields'] as string[];
        if (Array.isArray(o['errors'])) out.errors = o['errors'] as string[];
      }
      if (statusCode === 429) out.code ??= 'RATE_LIMITED';
      if (statusCode === 404) out.code ??= 'NOT_FOUND';
      return out;
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return { statusCode: 500, error: REASON[500]!, message: 'internal error', code: 'INTERNAL' };
  }
}
