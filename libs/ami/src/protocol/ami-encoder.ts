/**
 * Owns the one guard every action crosses on its way to Asterisk: header names, header values
 * (no control characters, lines Asterisk reads whole) and `Variable` lists (each item one
 * variable, escaped so that Asterisk's comma splitting cannot make two of it). Pure: fields in,
 * bytes or AmiError(Injection) out.
 */
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
 * The longest header line (without its CRLF) Asterisk reads whole: manager.c reads into a buffer
 * of 1024 bytes, CRLF included. A longer line is dropped by Asterisk (new versions drop the whole
 * action; old ones read its rest as another header line, a way to smuggle one in).
 */
export const AMI_MAX_LINE_BYTES = 1022;

/**
 * What no header value may hold: C0 and C1 control characters (CR, LF, NUL, TAB, ESC, U+0085 ...),
 * DEL, and the Unicode line and paragraph separators. Edges that check input early (REST DTOs)
 * use this same set.
 */
// eslint-disable-next-line no-control-regex
export const AMI_CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Actions whose `Variable` headers Asterisk reads as a list of `name=value` items split at commas
 * (manager.c `astman_get_variables`: Originate; MessageSend; PJSIPNotify and SIPnotify).
 */
const VARIABLE_LIST_ACTIONS = new Set(['originate', 'messagesend', 'pjsipnotify', 'sipnotify']);

/**
 * Characters Asterisk's argument splitter (`AST_STANDARD_APP_ARGS`) acts on in a `Variable` item:
 * the comma splits, quotes and backslashes are removed, brackets and parentheses hold commas. Each
 * is sent behind a backslash, which the splitter removes: the item arrives as written.
 */
const SPLITTER_MARKS = /[\\,"()[\]]/g;

/**
 * Why `value` cannot be a header value (a description without the value: it may be a secret), or
 * undefined when it can. The one rule for every header: no control character (CR and LF end a
 * header; NUL, TAB, ESC, U+0085, U+2028/2029 and the others have no place in one either).
 */
export function amiValueProblem(value: string): string | undefined {
  const m = AMI_CONTROL_CHARACTERS.exec(value);
  if (!m) return undefined;
  const c = m[0];
  if (c === '\r' || c === '\n') return 'contains CR or LF';
  return `contains the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Encodes an action as AMI bytes (CRLF line ends, an empty line at the end). Refused with
 * AmiError(Injection), nothing sent: a header name that is not a plain token, a value with a
 * control character, a line longer than Asterisk reads (AMI_MAX_LINE_BYTES), a `Variable` item
 * without `name=`. The error names the header, never the value (it may be a secret).
 *
 * `Variable` of Originate (and the other VARIABLE_LIST_ACTIONS), and the object form of any
 * header, are lists of variables: each item goes on its own line as `name=value`, with Asterisk's
 * splitter characters escaped, so that `{CRM: 'a,CALLERID(num)=666'}` sets CRM to exactly that and
 * nothing else. A string item is one variable, split at its first `=`.
 */
export function encodeAction(fields: AmiActionFields): Buffer {
  let out = '';
  const action = fields.Action;
  if (typeof action !== 'string' || action === '') {
    throw new AmiError(AmiErrorCode.Injection, 'AMI action without an Action name; not sent');
  }
  out += line('Action', action);
  const variableList = VARIABLE_LIST_ACTIONS.has(action.toLowerCase());
  for (const key of Object.keys(fields)) {
    if (key === 'Action') continue;
    const value = fields[key];
    if (value === undefined || value === null) continue;
    const isVariableList = variableList && key.toLowerCase() === 'variable';
    if (Array.isArray(value)) {
      for (const v of value as readonly unknown[]) {
        out += line(key, isVariableList ? variableItem(key, scalar(key, v)) : scalar(key, v));
      }
    } else if (typeof value === 'object') {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        out += line(key, variable(key, name, scalar(key, v)));
      }
    } else {
      const v = scalar(key, value);
      out += line(key, isVariableList ? variableItem(key, v) : v);
    }
  }
  return Buffer.from(out + '\r\n', 'utf8');
}

/** A `Variable` item given as `name=value` text: one variable, split at its first `=`. */
function variableItem(key: string, item: string): string {
  const eq = item.indexOf('=');
  if (eq <= 0) {
    throw new AmiError(
      AmiErrorCode.Injection,
      `AMI header ${key}: an item must be NAME=value (a name, then '='); not sent`,
    );
  }
  return variable(key, item.slice(0, eq), item.slice(eq + 1));
}

/** One variable as Asterisk's splitter must read it: `name=value`, its marks escaped. */
function variable(key: string, name: string, value: string): string {
  if (name === '' || name.includes('=') || /^\s/.test(name)) {
    throw new AmiError(
      AmiErrorCode.Injection,
      `AMI header ${key}: the variable name ${JSON.stringify(name.slice(0, 40))} is empty, starts with a space or contains '='; not sent`,
    );
  }
  return `${name.replace(SPLITTER_MARKS, '\\$&')}=${value.replace(SPLITTER_MARKS, '\\$&')}`;
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
  const problem = amiValueProblem(value);
  if (problem !== undefined) {
    throw new AmiError(AmiErrorCode.Injection, `AMI header ${key}: the value ${problem}; not sent`);
  }
  const text = `${key}: ${value}`;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > AMI_MAX_LINE_BYTES) {
    throw new AmiError(
      AmiErrorCode.Injection,
      `AMI header ${key}: the line is ${bytes} bytes, more than the ${AMI_MAX_LINE_BYTES} Asterisk reads; not sent`,
    );
  }
  return `${text}\r\n`;
}
