// The `metrics` block: the Prometheus endpoint on the service port (docs/metrics.md).
import { IsBoolean, IsString, Matches, ValidateBy } from 'class-validator';
import { ToBoolean } from './config.decorators';

/** Paths served by other parts of the service: /metrics must not hide them. */
const TAKEN = ['/api', '/health', '/console', '/negotiate', '/msg'];

export class MetricsConfig {
  /** Serve the Prometheus text format at `path`. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  enabled = true;

  /** Where Prometheus scrapes, on server.port (and server.tlsPort). */
  @IsString()
  @Matches(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, {
    message: 'must be a path such as /metrics (letters, digits, . _ ~ -, segments split by /)',
  })
  @ValidateBy({
    name: 'freeMetricsPath',
    validator: {
      validate: (v: unknown) =>
        typeof v !== 'string' ||
        !TAKEN.some((t) => v.toLowerCase() === t || v.toLowerCase().startsWith(`${t}/`)),
      defaultMessage: () => `must not be one of the service's own paths (${TAKEN.join(', ')})`,
    },
  })
  path = '/metrics';

  /** Ask for an API key with the scope `metrics` (Authorization: Bearer <key>). */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  requireKey = false;
}
