/**
 * Owns the reading of a REST request body, after the API key was checked: its media type (JSON),
 * its size (streamed and counted, never more than the limit held), the time it may take, UTF-8,
 * its nesting depth (checked on the text, before anything is built from it) and names that are
 * not fields (`__proto__`, `constructor`, `prototype`). Each refusal is an HttpException carrying
 * the documented {message, code, fields, errors}.
 */
import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  HttpException,
  HttpStatus,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { LimitClock } from '../limits/limit-clock';

export interface BodyLimits {
  maxBytes: number;
  maxDepth: number;
  timeoutMs: number;
}

/** Names a JSON body may not use: JavaScript's own, never a field of ours. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether the request carries a body at all (RFC 9112: Content-Length > 0, or chunked). */
export function hasBody(req: Pick<IncomingMessage, 'headers'>): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

function badBody(problem: string): BadRequestException {
  return new BadRequestException({
    message: `invalid request: body: ${problem}`,
    code: 'VALIDATION_FAILED',
    fields: ['body'],
    errors: [`body: ${problem}`],
  });
}

/** 415 unless the body is JSON (application/json or a +json type) in UTF-8. */
export function checkMediaType(req: IncomingMessage): void {
  const raw = req.headers['content-type'] ?? '';
  const [type = '', ...params] = raw.split(';').map((p) => p.trim().toLowerCase());
  const json = type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (!json || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new UnsupportedMediaTypeException({
      message: `the body must be JSON in UTF-8 (Content-Type: application/json), not ${JSON.stringify(raw.slice(0, 80)) || 'none'}`,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  }
}

function tooLarge(maxBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException({
    message: `the body is larger than ${maxBytes} bytes (limits.maxBodyBytes)`,
    code: 'PAYLOAD_TOO_LARGE',
  });
}

/**
 * Reads the body: at most `maxBytes` (a larger Content-Length is refused before reading), within
 * `timeoutMs`. Rejects 413 or 408; the caller closes the connection after such an answer (the
 * rest of the body is never read).
 */
export function readBody(
  req: IncomingMessage,
  limits: BodyLimits,
  clock: LimitClock,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    return Promise.reject(tooLarge(limits.maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(parts, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) finish(tooLarge(limits.maxBytes));
      else parts.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (err: Error): void =>
      finish(
        new BadRequestException({
          message: `the body could not be read: ${err.message}`,
          code: 'VALIDATION_FAILED',
        }),
      );
    const timer = clock.setTimeout(
      () =>
        finish(
          new HttpException(
            {
              message: `the body did not arrive within ${limits.timeoutMs} ms (limits.bodyTimeoutMs)`,
              code: 'REQUEST_TIMEOUT',
            },
            HttpStatus.REQUEST_TIMEOUT,
          ),
        ),
      limits.timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The depth of the deepest object or array in JSON text, counted without parsing (strings
 * skipped); stops counting past `max`. Linear, iterative: no input can exhaust the stack.
 */
export function jsonDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** The path of the first reserved name in a parsed body (depth already bounded), or undefined. */
export function reservedNamePath(value: unknown, path = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = reservedNamePath(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  for (const k of Object.keys(value)) {
    const here = path ? `${path}.${k}` : k;
    if (RESERVED.has(k)) return here;
    const p = reservedNamePath((value as Record<string, unknown>)[k], here);
    if (p) return p;
  }
  return undefined;
}

/** The body text as JSON: 400 for bad UTF-8, bad JSON, too deep, or a reserved name. */
export function parseJsonBody(bytes: Buffer, maxDepth: number): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badBody('is not UTF-8 text');
  }
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw badBody(`nests objects and arrays deeper than ${maxDepth} levels (limits.maxBodyDepth)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    // Only where it broke: the parser's message may quote the body.
    const at = err instanceof Error ? /position (\d+)/.exec(err.message) : null;
    throw badBody(`is not valid JSON${at ? ` (at position ${at[1]})` : ''}`);
  }
  const reserved = reservedNamePath(value);
  if (reserved !== undefined) {
    throw new BadRequestException({
      message: `invalid request: ${reserved}: unknown field (a reserved name)`,
      code: 'VALIDATION_FAILED',
      fields: [reserved],
      errors: [`${reserved}: unknown field (a reserved name)`],
    });
  }
  return value;
}
