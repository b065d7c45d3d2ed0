import {
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { tap, type Observable } from 'rxjs';
import type { RequestWithCaller } from './api-key.guard';

interface RequestLike extends RequestWithCaller {
  method: string;
  originalUrl?: string;
  url: string;
}

/**
 * One log line per accepted /api/v1 request: who (the key's name, never the key), what, and the
 * status. Commands log at info, reads at debug. Refused requests are logged by the error filter.
 */
@Injectable()
export class ApiAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('RestApi');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<RequestLike>();
    const started = Date.now();
    return next.handle().pipe(
      tap(() => {
        const status = http.getResponse<{ statusCode: number }>().statusCode;
        const line = `${req.method} ${req.originalUrl ?? req.url} by '${req.apiCaller?.name ?? '?'}' -> ${status} (${Date.now() - started} ms)`;
        if (req.method === 'GET') this.logger.debug(line);
        else this.logger.log(line);
      }),
    );
  }
}
