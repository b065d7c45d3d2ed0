import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed tokens of security mode `token`: a compact JWS with HS256 (HMAC-SHA256 over
 * `base64url(header).base64url(claims)` with the shared secret). Claims: `sub` the CRM user id
 * (sessionServiceParams.UserUId), `line` the line (connectionParams.ExtensionName), `exp` the
 * expiry in epoch seconds. Any JWT library makes one: `jwt.sign({sub, line}, secret, {expiresIn})`.
 */
export interface GatewayTokenClaims {
  sub: string;
  line: string;
  exp: number;
}

export enum TokenFault {
  Missing = 'missing',
  Malformed = 'malformed',
  BadSignature = 'bad signature',
  Expired = 'expired',
  WrongUser = 'issued for another user',
  WrongLine = 'issued for another line',
}

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** Makes a token (tests, tools, docs). */
export function signGatewayToken(secret: string, claims: GatewayTokenClaims): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/**
 * Checks a token against the secret, the clock, and the user and line claimed by OpenConnection.
 * Returns null when good, else why not (never the token or the secret).
 */
export function verifyGatewayToken(
  token: string | undefined,
  secret: string,
  expect: { user: string; line: string },
  nowMs: number = Date.now(),
): TokenFault | null {
  if (!token) return TokenFault.Missing;
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    return TokenFault.Malformed;
  }
  const [head, body, sig] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return TokenFault.Malformed;
  }
  if (
    typeof header !== 'object' ||
    header === null ||
    (header as Record<string, unknown>)['alg'] !== 'HS256'
  ) {
    return TokenFault.Malformed;
  }
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return TokenFault.BadSignature;
  }
  if (typeof claims !== 'object' || claims === null) return TokenFault.Malformed;
  const c = claims as Record<string, unknown>;
  if (typeof c['exp'] !== 'number' || typeof c['sub'] !== 'string') return TokenFault.Malformed;
  if (typeof c['line'] !== 'string' && typeof c['line'] !== 'number') return TokenFault.Malformed;
  if (c['exp'] * 1000 <= nowMs) return TokenFault.Expired;
  if (c['sub'].toLowerCase() !== expect.user.toLowerCase()) return TokenFault.WrongUser;
  if (String(c['line']) !== expect.line) return TokenFault.WrongLine;
  return null;
}
