import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";
import { nowMs } from "../lib/clock";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed in the current window after this one. */
  remaining: number;
  /** Milliseconds until the oldest counted request leaves the window (capacity returns). */
  resetMs: number;
}

/**
 * An exact sliding-window log for one limit key (one object per IP or per project).
 *
 * Every admitted request's timestamp is kept; a request is admitted when fewer than `limit`
 * timestamps fall inside the last `windowMs`. The object is single-threaded, so concurrent requests
 * are serialized and exactly `limit` are admitted. Timestamps live in the object's SQLite storage so
 * the window survives eviction, mirrored in memory so a check costs no storage read; entries older
 * than the window are pruned on every call.
 */
export class RateLimiter extends DurableObject<Bindings> {
  private hits: number[] = [];

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL)");
      // Pruning deletes by time; without the index each prune scans the whole window.
      this.ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS hits_ts_idx ON hits (ts)");
      this.hits = this.ctx.storage.sql
        .exec<{ ts: number }>("SELECT ts FROM hits ORDER BY id")
        .toArray()
        .map((r) => r.ts);
    });
  }

  hit(limit: number, windowMs: number): RateLimitDecision {
    const now = nowMs();
    this.prune(now, windowMs);
    if (this.hits.length < limit) {
      this.hits.push(now);
      this.ctx.storage.sql.exec("INSERT INTO hits (ts) VALUES (?)", now);
      return { allowed: true, limit, remaining: limit - this.hits.length, resetMs: this.hits[0]! + windowMs - now };
    }
    // The request that must age out before one more fits: with `limit` admitted in the window,
    // capacity returns when the (len - limit)th oldest leaves.
    const blocking = this.hits[this.hits.length - limit]!;
    return { allowed: false, limit, remaining: 0, resetMs: Math.max(1, blocking + windowMs - now) };
  }

  /** Readiness probe for /v1/status: proves the object and its storage answer. */
  ping(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hits").one().n;
  }

  private prune(now: number, windowMs: number) {
    const cutoff = now - windowMs;
    let drop = 0;
    while (drop < this.hits.length && this.hits[drop]! <= cutoff) drop++;
    if (drop > 0) {
      this.hits.splice(0, drop);
      this.ctx.storage.sql.exec("DELETE FROM hits WHERE ts <= ?", cutoff);
    }
  }
}
