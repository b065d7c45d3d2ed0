// Where negotiated SignalR connections wait for their WebSocket (`?id=`): the contract, and the
// in-memory store of one node. A cluster plugs in a store whose tokens carry their own proof
// (cluster/signed-negotiation-store.ts), so that the WebSocket may reach any node.
import { randomBytes } from 'node:crypto';

/** A negotiated connection waiting for its WebSocket. */
export interface PendingConnection {
  connectionId: string;
  expiresAt: number;
  origin: string | undefined;
}

/** How long a negotiated connection token stays valid before its WebSocket arrives. */
export const NEGOTIATION_TTL_MS = 60_000;
/** Most negotiations kept waiting at once (a flood of negotiates must not grow memory without bound). */
export const MAX_PENDING_NEGOTIATIONS = 50_000;

export function randomToken(): string {
  return randomBytes(16).toString('base64url');
}

export abstract class NegotiationStore {
  /** A token for a new connection (the `id` its WebSocket will carry), valid until expiresAt. */
  abstract issue(connectionId: string, origin: string | undefined, expiresAt: number): string;
  /** The connection a token stands for, once; undefined when unknown, used or expired. */
  abstract take(id: string, now: number): PendingConnection | undefined;
  /** Forgets what expired (the gateway's heartbeat). */
  abstract sweep(now: number): void;
  /** Negotiations kept in this process (diagnostics). */
  abstract readonly pendingCount: number;
}

/** One node: negotiations in a bounded map (the oldest is dropped when it is full). */
export class MemoryNegotiationStore extends NegotiationStore {
  private readonly pending = new Map<string, PendingConnection>();

  issue(connectionId: string, origin: string | undefined, expiresAt: number): string {
    if (this.pending.size >= MAX_PENDING_NEGOTIATIONS) {
      this.sweep(expiresAt - NEGOTIATION_TTL_MS);
      // Still full: drop the oldest (Map keeps insertion order).
      while (this.pending.size >= MAX_PENDING_NEGOTIATIONS) {
        this.pending.delete(this.pending.keys().next().value as string);
      }
    }
    const token = randomToken();
    this.pending.set(token, { connectionId, expiresAt, origin });
    return token;
  }

  take(id: string, now: number): PendingConnection | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    return p.expiresAt > now ? p : undefined;
  }

  sweep(now: number): void {
    for (const [k, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(k);
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}
