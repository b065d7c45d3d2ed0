// Line leases in Redis (cluster.enabled): one lease per line in the whole cluster, held by the
// session (one per node and line) of the user who opened it; renewed every leaseMs/3, released
// when the node's last socket leaves the line, expired within leaseMs when the node dies.
// Owns this node's lease entries; the scripts are in cluster-scripts.ts.
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Readiness } from '@app/messaging';
import type { ClusterRedis } from './cluster-redis';
import { lineKey, userKey } from './line-key';
import {
  LineClaimRefused,
  LineOwnership,
  LineOwnershipErrorCode,
  type LineLease,
  type LocalLineLease,
} from './line-ownership';

export interface RedisLineOwnershipOptions {
  nodeId: string;
  leaseMs: number;
  /** Clock (tests). */
  now?: () => number;
}

/** What a lease key holds. */
export interface LeaseValue {
  user: string;
  node: string;
  session: string;
  since: number;
}

class Handle implements LineLease {
  released = false;
  private lostListeners: ((reason: string) => void)[] = [];

  constructor(
    readonly line: string,
    private readonly entry: Entry,
    private readonly owner: RedisLineOwnership,
  ) {}

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.detach(this.entry, this);
  }

  /** @internal */
  lost(reason: string): void {
    if (this.released) return;
    this.released = true;
    for (const l of this.lostListeners.splice(0)) l(reason);
  }
}

/** This node's session on one line. */
interface Entry {
  line: string;
  key: string;
  user: string;
  session: string;
  since: number;
  handles: Set<Handle>;
  /** Our session is the holder in Redis (false: another session of the same user is). */
  holder: boolean;
  /** When Redis last confirmed what `holder` says. */
  confirmedAt: number;
}

export class RedisLineOwnership extends LineOwnership {
  private readonly logger = new Logger('LineLeases');
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly stopReady: () => void;
  private renewing: Promise<void> | null = null;
  private renewFailure: string | null = null;
  private closed = false;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly options: RedisLineOwnershipOptions,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => void this.renewAll(), Math.max(200, options.leaseMs / 3));
    this.timer.unref();
    // Redis is back (restarted, maybe empty): re-establish every lease of this node at once.
    this.stopReady = redis.onReady(() => void this.renewAll());
  }

  async claim(line: string, user: string): Promise<LineLease> {
    const key = lineKey(line);
    const owner = userKey(user);
    let entry = this.entries.get(key);
    if (entry && entry.user !== owner) throw busy(line);
    if (this.closed) {
      throw new LineClaimRefused(LineOwnershipErrorCode.Unavailable, 'the node is shutting down');
    }
    if (!this.redis.isReady) {
      // A socket joining this node's own session on the line is no new claim.
      if (entry) return this.attach(entry);
      throw unavailable(line, this.redis.describeState());
    }
    if (!entry) {
      entry = {
        line,
        key,
        user: owner,
        session: `${this.options.nodeId}/${randomUUID()}`,
        since: this.now(),
        handles: new Set(),
        holder: false,
        confirmedAt: 0,
      };
      this.entries.set(key, entry);
    }
    const handle = this.attach(entry);
    let status: number;
    let previous: string;
    try {
      [status, previous] = await this.redis.client.mhLeaseClaim(
        leaseKey(key),
        owner,
        JSON.stringify(valueOf(entry, this.options.nodeId)),
        this.options.leaseMs,
      );
    } catch (err) {
      handle.release();
      throw unavailable(line, `redis ${this.redis.where} failed: ${(err as Error).message}`, err);
    }
    if (status !== 1) {
      handle.release();
      throw busy(line);
    }
    // The socket left while the claim was on its way: its release went after the claim on the
    // same connection, so Redis has already dropped the lease again.
    if (handle.released) return handle;
    entry.holder = true;
    entry.confirmedAt = this.now();
    const prev = parseValue(previous);
    if (prev && prev.session !== entry.session) {
      this.logger.log(
        `line ${line}: lease taken over from node ${prev.node} (the same user reconnected here)`,
      );
    }
    return handle;
  }

  isHeldHere(line: string): boolean {
    const e = this.entries.get(lineKey(line));
    return !!e && e.holder && this.now() - e.confirmedAt < this.options.leaseMs;
  }

  localLeases(): LocalLineLease[] {
    return [...this.entries.values()].map((e) => ({
      line: e.line,
      sockets: e.handles.size,
      holder: e.holder,
    }));
  }

  /** The lease of a line as Redis has it (diagnostics, tests); undefined when free. */
  async holderOf(line: string): Promise<LeaseValue | undefined> {
    const text = await this.redis.client.get(leaseKey(lineKey(line)));
    return parseValue(text ?? '');
  }

  readiness(): Readiness {
    const lines = this.entries.size;
    if (!this.redis.isReady) {
      return {
        ready: false,
        reason: `${this.redis.describeState()}: new line claims are refused; ${lines} open line(s) keep their sessions and get their leases back when Redis returns`,
      };
    }
    if (this.renewFailure) {
      return { ready: false, reason: `line leases cannot be renewed: ${this.renewFailure}` };
    }
    return { ready: true, reason: `node ${this.options.nodeId}, ${lines} line lease(s) here` };
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.stopReady();
    const entries = [...this.entries.values()];
    this.entries.clear();
    if (this.redis.isReady) await Promise.all(entries.map((e) => this.releaseInRedis(e)));
  }

  /** @internal A socket left the line: the last one releases the lease. */
  detach(entry: Entry, handle: Handle): void {
    entry.handles.delete(handle);
    if (entry.handles.size > 0 || this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    void this.releaseInRedis(entry);
  }

  /** Renews (or takes back) every lease of this node; one round trip for all of them. */
  renewAll(): Promise<void> {
    this.renewing ??= this.renewRound().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private attach(entry: Entry): Handle {
    const h = new Handle(entry.line, entry, this);
    entry.handles.add(h);
    return h;
  }

  private async renewRound(): Promise<void> {
    const entries = [...this.entries.values()];
    if (entries.length === 0 || !this.redis.isReady || this.closed) return;
    const pipe = this.redis.client.pipeline() as unknown as {
      mhLeaseRenew(...args: unknown[]): unknown;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const e of entries) {
      pipe.mhLeaseRenew(
        leaseKey(e.key),
        e.user,
        JSON.stringify(valueOf(e, this.options.nodeId)),
        this.options.leaseMs,
        e.session,
      );
    }
    let results: [Error | null, unknown][] | null;
    const at = this.now();
    try {
      results = await pipe.exec();
    } catch (err) {
      this.noteFailure((err as Error).message);
      return;
    }
    let failed: string | null = null;
    entries.forEach((e, i) => {
      const [err, res] = results?.[i] ?? [new Error('no answer'), null];
      if (err) {
        failed = err.message;
        return;
      }
      const [status, value] = res as [number, string];
      this.applyRenewal(e, status, value, at);
    });
    if (failed) this.noteFailure(failed);
    else if (this.renewFailure) {
      this.logger.log('line leases are renewed again');
      this.renewFailure = null;
    }
  }

  private applyRenewal(e: Entry, status: number, value: string, at: number): void {
    if (this.entries.get(e.key) !== e) return; // released meanwhile
    if (status === 1 || status === 2) {
      if (status === 2 || !e.holder) {
        this.logger.log(`line ${e.line}: lease ${e.holder ? 're-established' : 'taken'} here`);
      }
      e.holder = true;
      e.confirmedAt = at;
      return;
    }
    if (status === 3) {
      if (e.holder) {
        const v = parseValue(value);
        this.logger.log(
          `line ${e.line}: the same user's session on node ${v?.node ?? '?'} holds the lease now`,
        );
      }
      e.holder = false;
      e.confirmedAt = at;
      return;
    }
    // Another user holds the line: our lease lapsed (Redis away or this node stalled).
    this.entries.delete(e.key);
    const v = parseValue(value);
    const reason = `line ${e.line} was taken by another user${v ? ` on node ${v.node}` : ''} while this node could not renew its lease`;
    this.logger.warn(reason);
    for (const h of [...e.handles]) h.lost(reason);
    e.handles.clear();
  }

  private noteFailure(message: string): void {
    if (message !== this.renewFailure) this.logger.warn(`renewing line leases failed: ${message}`);
    this.renewFailure = message;
  }

  private async releaseInRedis(e: Entry): Promise<void> {
    if (!this.redis.isReady) return; // it expires by itself within leaseMs
    try {
      await this.redis.client.mhLeaseRelease(leaseKey(e.key), e.session);
    } catch (err) {
      this.logger.warn(`releasing the lease of line ${e.line} failed: ${(err as Error).message}`);
    }
  }
}

export function leaseKey(key: string): string {
  return `lease:${key}`;
}

function valueOf(e: Entry, node: string): LeaseValue {
  return { user: e.user, node, session: e.session, since: e.since };
}

function parseValue(text: string): LeaseValue | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LeaseValue>;
    if (typeof v.user === 'string' && typeof v.session === 'string') {
      return {
        user: v.user,
        node: typeof v.node === 'string' ? v.node : '?',
        session: v.session,
        since: typeof v.since === 'number' ? v.since : 0,
      };
    }
  } catch {
    // A value we did not write: treated as no lease of ours.
  }
  return undefined;
}

function busy(line: string): LineClaimRefused {
  return new LineClaimRefused(
    LineOwnershipErrorCode.LineBusy,
    `line ${line} is in use by another user`,
  );
}

function unavailable(line: string, why: string, cause?: unknown): LineClaimRefused {
  return new LineClaimRefused(
    LineOwnershipErrorCode.Unavailable,
    `line ${line} cannot be opened now: line ownership is kept in Redis and ${why}; try again shortly`,
    cause === undefined ? undefined : { cause },
  );
}
