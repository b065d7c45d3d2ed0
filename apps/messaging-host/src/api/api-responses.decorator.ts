import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrorDto } from './dto/error.dto';

const WHY: Record<number, string> = {
  400: 'Invalid request: `fields` names each bad field, `errors` says what is wrong with it.',
  401: 'No API key, a malformed Authorization header or an unknown key.',
  403: "The API key lacks this route's scope.",
  404: 'Unknown call or line.',
  409: 'The call or line is not in a state where the command applies.',
  429: 'Rate limit of this API key exceeded (see Retry-After).',
  500: 'Unexpected server error.',
  501: 'The active messaging library does not support this command.',
  502: "The PBX refused the action: `detail` holds the PBX's message.",
  503: 'Not connected to the PBX, or the settings store is unavailable.',
};

/** Every route: what auth, rate limit and the server itself may answer. */
const COMMON = [401, 403, 429, 500] as const;

/** Documents each error status of a route (the common ones are always added) with ApiErrorDto. */
export function ApiErrors(...statuses: number[]): MethodDecorator {
  const all = [...new Set([...statuses, ...COMMON])].sort((a, b) => a - b);
  return applyDecorators(
    ...all.map((status) =>
      ApiResponse({ status, description: WHY[status] ?? 'Error.', type: ApiErrorDto }),
    ),
  );
}
