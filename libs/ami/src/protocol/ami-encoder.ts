import { AmiError, AmiErrorCode } from '../ami.errors';

/**
 * A header value of an action. Arrays repeat the header (`Variable: a=1`, `Variable: b=2`); an
 * object gives one `Key: name=value` line per entry (for `Variable`); null and undefined leave the
 * header out; booleans are written `true`/`false`.
 */
export type AmiFieldValue =
  | string
  | number
  | boolean
  | bigint
  | readonly (string | number | boolean)[]
  | Readonly<Record<string, string | number | boolean>>
  | null
  | undefined;

/** An action: `Action` and any other headers, in the order given. */
export interface AmiActionFields {
  Action: string;
  [header: string]: AmiFieldValue;
}

/** Header names Asterisk accepts: letters, digits and a few marks (`ChanVariable(NAME)`), no spaces or colons. */
const KEY = /^[A-Za-z0-9_()\-.]+$/;

/**
 * Encodes an action as AMI bytes (CRLF line ends, an empty line at the end). A header whose name
 * is not a plain token or whose value holds CR or LF is refused with AmiError(Injection): it would
 * let a value smuggle in headers or actions. The error names the header, never the value (it may
 * be a secret).
 */
export function encodeAction(fields: AmiActionFields): Buffer {
  let out = '';
  const action = fields.Action;
  if (typeof action !== 'string' || action === '') {
    throw new AmiError(AmiErrorCode.Injection, 'AMI action without an Action name; not sent');
  }
  out += line('Action', action);
  for (const key of Object.keys(fields)) {
    if (key === 'Action') continue;
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value as readonly unknown[]) out += line(key, scalar(key, v));
    } else if (typeof value === 'object') {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (name.includes('=')) {
          throw new AmiError(
            AmiErrorCode.Injection,
            `AMI header ${key}: the name ${JSON.stringify(name)} contains '='; not sent`,
          );
        }
        out += line(key, `${name}=${scalar(key, v)}`);
      }
    } else {
      out += line(key, scalar(key, value));
    }
  }
  return Buffer.from(out + '\r\n', 'utf8');
}

function scalar(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new AmiError(
    AmiErrorCode.Injection,
    `AMI header ${key}: a value of type ${typeof v} cannot be sent`,
  );
}

function line(key: string, value: string): string {
  if (!KEY.test(key)) {
    throw new AmiError(
      AmiErrorCode.Injection,
      `AMI header name ${JSON.stringify(key.slice(0, 40))} is not a plain token; not sent`,
    );
  }
  if (value.includes('\r') || value.includes('\n')) {
    throw new AmiError(
      AmiErrorCode.Injection,
      `AMI header ${key}: the value contains CR or LF; not sent`,
    );
  }
  return `${key}: ${value}\r\n`;
}
