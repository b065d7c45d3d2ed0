// SignalR connection tokens valid on every node (cluster.enabled): the token carries its own
// proof, an HMAC-SHA256 with cluster.secret over {connection id, origin, expiry}, so a WebSocket
// `?id=` may reach another node than the negotiate did. Nothing is stored per negotiation; each
// node remembers the tokens it has seen until they expire, so one is used once per node.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NegotiationStore, type PendingConnection } from '../gateway/signalr/negotiation-store';

/** Longest origin embedded in a token (a longer Origin header is left out: it could not be allowed). */
const MAX_ORIGIN = 512;
/** Tokens remembered as used on this node at most (a flood cannot grow memory without bound). */
const MAX_USED = 100_000;

interface Payload {
  /** connection id */
  c: string;
  /** expiry, epoch ms */
  e: number;
  o?: string;
}

export class SignedNegotiationStore extends NegotiationStore {
  private readonly key: Buffer;
  private readonly used = new Map<string, number>();

  constructor(secret: string) {
    super();
    if (secret.length < 32) throw new Error('cluster.secret must be at least 32 characters');
    // A key of its own for this use, derived from the shared secret.
    this.key = createHmac('sha256', secret).update('messaging-host/signalr-negotiate/v1').digest();
  }

  issue(connectionId: string, origin: string | undefined, expiresAt: number): string {
    const payload: Payload = { c: connectionId, e: expiresAt };
    if (origin !== undefined && origin.length <= MAX_ORIGIN) payload.o = origin;
    // A random part keeps two tokens of one connection id apart (version 0 uses the token as id).
    const body = Buffer.from(
      JSON.stringify({ ...payload, r: randomBytes(6).toString('base64url') }),
    ).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  take(id: string, now: number): PendingConnection | undefined {
    const dot = id.indexOf('.');
    if (dot <= 0 || id.length > 2048) return undefined;
    const body = id.slice(0, dot);
    const given = Buffer.from(id.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let p: Payload;
    try {
      p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    } catch {
      return undefined;
    }
    if (typeof p.c !== 'string' || typeof p.e !== 'number' || p.e <= now) return undefined;
    if (this.used.has(id)) return undefined;
    if (this.used.size >= MAX_USED) this.sweep(now);
    if (this.used.size >= MAX_USED) this.used.delete(this.used.keys().next().value as string);
    this.used.set(id, p.e);
    return { connectionId: p.c, expiresAt: p.e, origin: typeof p.o === 'string' ? p.o : undefined };
  }

  sweep(now: number): void {
    for (const [k, e] of this.used) if (e <= now) this.used.delete(k);
  }

  /** Nothing waits in memory: a token is its own record. */
  get pendingCount(): number {
    return 0;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
