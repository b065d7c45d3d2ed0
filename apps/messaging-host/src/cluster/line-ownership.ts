// Who may hold a line: the contract the gateway asks before binding a socket to a line, and the
// single-node implementation (cluster.enabled false). Owns the lease handles of this node; the
// Redis implementation lives in redis-line-ownership.ts.
import type { Readiness } from '@app/messaging';
import { lineKey } from './line-key';

export enum LineOwnershipErrorCode {
  /** Another user holds the line (on this node or another one). */
  LineBusy = 'LINE_OWNED_BY_OTHER_USER',
  /** Ownership cannot be checked now (the cluster's Redis is away): claims are refused. */
  Unavailable = 'CLUSTER_UNAVAILABLE',
  /** This node's lease lapsed (Redis away, node stalled) and another user took the line. */
  LeaseLost = 'LINE_LEASE_LOST',
}

/** A claim refused; `message` is shown to the client (error 2) and names no secret. */
export class LineClaimRefused extends Error {
  override name = 'LineClaimRefused';
  constructor(
    readonly code: LineOwnershipErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One socket's hold on a line; released when the socket leaves the line. */
export interface LineLease {
  readonly line: string;
  /**
   * Called once when the line was taken by another user while this node's lease had lapsed: the
   * socket must leave the line (error 2). Never called after release().
   */
  onLost(listener: (reason: string) => void): void;
  release(): void;
}

/** What this node knows of one line it has sessions on (diagnostics, /health/ready). */
export interface LocalLineLease {
  line: string;
  /** Sockets of this node on the line. */
  sockets: number;
  /** Whether this node's session is the lease holder (false: another node's session of the same user is). */
  holder: boolean;
}

/**
 * Line ownership (issue 11). The gateway claims a line before binding a socket to it and releases
 * the claim when the socket leaves; other parts ask `isHeldHere(line)` before doing what must be
 * done once per line in the whole cluster (saving a call in the CRM, pausing a queue member).
 */
export abstract class LineOwnership {
  /** Resolves with a lease, or rejects with LineClaimRefused (LineBusy, Unavailable). */
  abstract claim(line: string, user: string): Promise<LineLease>;
  /** Whether a session on this node holds the line's lease now (one node in the cluster at most). */
  abstract isHeldHere(line: string): boolean;
  /** The lines this node has sessions on. */
  abstract localLeases(): LocalLineLease[];
  abstract readiness(): Readiness;
  /** Releases every lease of this node (shutdown). */
  async close(): Promise<void> {
    // Nothing is kept outside the process in the single-node implementation.
  }
}

/**
 * Single node: the line hub in memory decides (another user gets error 2 there); a line is held
 * here while a socket of this node is on it.
 */
export class LocalLineOwnership extends LineOwnership {
  private readonly held = new Map<string, { line: string; sockets: number }>();

  async claim(line: string, _user: string): Promise<LineLease> {
    const key = lineKey(line);
    const entry = this.held.get(key) ?? { line, sockets: 0 };
    entry.sockets += 1;
    this.held.set(key, entry);
    let released = false;
    return {
      line,
      onLost: () => undefined,
      release: () => {
        if (released) return;
        released = true;
        entry.sockets -= 1;
        if (entry.sockets === 0 && this.held.get(key) === entry) this.held.delete(key);
      },
    };
  }

  isHeldHere(line: string): boolean {
    return this.held.has(lineKey(line));
  }

  localLeases(): LocalLineLease[] {
    return [...this.held.values()].map((e) => ({ line: e.line, sockets: e.sockets, holder: true }));
  }

  readiness(): Readiness {
    return { ready: true, reason: 'single node (cluster.enabled false)' };
  }
}
