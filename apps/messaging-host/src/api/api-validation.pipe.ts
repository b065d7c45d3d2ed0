import {
  BadRequestException,
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
} from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/** `foo: unknown field` instead of class-validator's "property foo should not exist". */
function describe(e: ValidationError, path: string): string[] {
  const out: string[] = [];
  const rules = Object.keys(e.constraints ?? {});
  if (e.value === undefined && rules.length > 0 && !rules.includes('whitelistValidation')) {
    return [`${path}: is required`];
  }
  for (const [rule, msg] of Object.entries(e.constraints ?? {})) {
    if (rule === 'whitelistValidation') out.push(`${path}: unknown field`);
    else
      out.push(
        msg.startsWith(`${e.property} `)
          ? `${path}: ${msg.slice(e.property.length + 1)}`
          : `${path}: ${msg}`,
      );
  }
  return out;
}

function flatten(errors: ValidationError[], prefix = ''): { fields: string[]; lines: string[] } {
  const fields: string[] = [];
  const lines: string[] = [];
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = describe(e, path);
    if (own.length > 0) {
      fields.push(path);
      lines.push(...own);
    }
    if (e.children?.length) {
      const sub = flatten(e.children, path);
      fields.push(...sub.fields);
      lines.push(...sub.lines);
    }
  }
  return { fields, lines };
}

/**
 * Bodies, path parameters and queries of /api/v1 checked against their DTOs: unknown fields are
 * refused, and the 400 names each bad field (`fields`) with one line per problem (`errors`).
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
      // The value is kept to tell a missing field from a wrong one; it is never put in a message.
      validationError: { target: false, value: true },
      exceptionFactory: (errors: ValidationError[]) => {
        const { fields, lines } = flatten(errors);
        return new BadRequestException({
          message: `invalid request: ${lines.join('; ')}`,
          code: 'VALIDATION_FAILED',
          fields: [...new Set(fields)],
          errors: lines,
        });
      },
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw new BadRequestException({
        message: 'invalid request: the body must be a JSON object',
        code: 'VALIDATION_FAILED',
        fields: ['body'],
        errors: ['body: must be a JSON object'],
      });
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}
