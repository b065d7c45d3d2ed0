// The `events` block: the Server-Sent Events stream GET /api/v1/events (docs/rest.md "Event stream").
import { IsInt, Max, Min } from 'class-validator';
import { ToNumber } from './config.decorators';

export class EventsConfig {
  /** Event streams open at once on this node; one more is refused with 503. */
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(10000)
  maxClients = 100;
}
