/**
 * The client of Creatio's MsgUtilService (anonymous JSON over HTTP): UpdateCall saves a call and
 * answers the record's GUID; LogInMsgServer answers a GUID when the user may use telephony. Owns
 * the HTTP details: timeout, no redirects followed, a capped answer, errors as CrmError.
 */
import { CrmError, CrmErrorCode } from './crm.errors';
import { MSG_UTIL_SERVICE_PATH, printable } from './crm-target';

const GUID_RE = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
/** A GUID answer is 38 bytes; an error page is read this far, no further. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Whether `s` is a GUID (lower-case, no braces), as Creatio writes them. */
export function isGuid(s: unknown): s is string {
  return (
    typeof s === 'string' &&
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)
  );
}

/**
 * The GUID of an answer, as Creatio's client reads it (`"0b0c..."`, a bare GUID, or a WCF wrapped
 * `{"UpdateCallResult":"..."}`); undefined when it is anything else (then it is an error text).
 * The empty GUID is not an answer.
 */
export function guidOfAnswer(text: string): string | undefined {
  let value: unknown = text.trim();
  if (typeof value === 'string' && /^["{]/.test(value)) {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      // a bare {GUID} in braces is not JSON: matched below
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1 && /Result$/.test(entries[0]![0])) value = entries[0]![1];
  }
  if (typeof value !== 'string') return undefined;
  const m = GUID_RE.exec(value.trim());
  if (!m) return undefined;
  const guid = m[1]!.toLowerCase();
  return guid === EMPTY_GUID ? undefined : guid;
}

/** The CRM's error text from an answer body: a JSON string unwrapped, made printable. */
export function errorTextOf(text: string): string {
  let t = text.trim();
  if (t.startsWith('"')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (typeof v === 'string') t = v;
    } catch {
      // not a JSON string: shown as it is
    }
  }
  // eslint-disable-next-line no-control-regex
  const flat = t.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  if (flat === '') return '(an empty answer)';
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}

export interface MsgUtilServiceOptions {
  /** Time allowed for one request, ms. */
  timeoutMs: number;
  /** The HTTP client (tests may wrap it); default the global fetch. */
  fetch?: typeof fetch;
}

/** The answer of LogInMsgServer. */
export type LoginAnswer = { allowed: true } | { allowed: false; text: string };

export class MsgUtilServiceClient {
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: MsgUtilServiceOptions) {
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Saves a call (the panel's Call JSON); resolves with the record's GUID. */
  async updateCall(
    base: string,
    call: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<string> {
    const { status, text } = await this.post(base, 'UpdateCall', call, signal);
    const guid = guidOfAnswer(text);
    if (status >= 200 && status < 300) {
      if (guid) return guid;
      throw new CrmError(
        CrmErrorCode.NotAGuid,
        `UpdateCall at ${base} answered ${errorTextOf(text)}`,
        false,
        status,
      );
    }
    throw httpStatusError('UpdateCall', base, status, text);
  }

  /** Asks whether `userUId` may use telephony (holds `licInfoKeys`). */
  async logIn(
    base: string,
    userUId: string,
    licInfoKeys: readonly string[],
    signal?: AbortSignal,
  ): Promise<LoginAnswer> {
    const { status, text } = await this.post(
      base,
      'LogInMsgServer',
      { LicInfoKeys: licInfoKeys, UserUId: userUId },
      signal,
    );
    if (status >= 200 && status < 300) {
      return guidOfAnswer(text) ? { allowed: true } : { allowed: false, text: errorTextOf(text) };
    }
    // 401/403: the CRM itself says no; 5xx and the rest: it could not answer.
    if (status === 401 || status === 403) return { allowed: false, text: errorTextOf(text) };
    throw httpStatusError('LogInMsgServer', base, status, text);
  }

  private async post(
    base: string,
    method: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    const url = `${base}${MSG_UTIL_SERVICE_PATH}${method}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abort = signal ? AbortSignal.any([timeout, signal]) : timeout;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: abort,
      });
    } catch (err) {
      throw new CrmError(
        CrmErrorCode.Unreachable,
        `${method} at ${base}: ${timeout.aborted ? `no answer within ${this.options.timeoutMs} ms` : causeOf(err)}`,
        true,
      );
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const where = res.headers.get('location');
      throw new CrmError(
        CrmErrorCode.Redirect,
        `${method} at ${base} answered a redirect (${res.status}${where ? ` to ${printable(where)}` : ''}); redirects are not followed: set the CRM's final address`,
        true,
        res.status,
      );
    }
    let text: string;
    try {
      text = await readCapped(res, MAX_ANSWER_BYTES);
    } catch (err) {
      throw new CrmError(
        CrmErrorCode.Unreachable,
        `${method} at ${base}: the answer broke off (${timeout.aborted ? 'timeout' : causeOf(err)})`,
        true,
      );
    }
    return { status: res.status, text };
  }
}

function httpStatusError(method: string, base: string, status: number, text: string): CrmError {
  // A 4xx other than 408/429 is about this request; the rest say the CRM cannot take requests now.
  const wholeCrm = status >= 500 || status === 408 || status === 429 || status === 404;
  return new CrmError(
    CrmErrorCode.HttpStatus,
    `${method} at ${base} answered HTTP ${status}: ${errorTextOf(text).slice(0, 200)}`,
    wholeCrm,
    status,
  );
}

/** The reason of a fetch failure (undici hides it in `cause`). */
function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - size;
    chunks.push(value.length > room ? value.subarray(0, room) : value);
    size += Math.min(value.length, room);
    if (size >= max) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
