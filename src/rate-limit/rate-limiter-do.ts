import { DurableObject } from "cloudflare:workers";
import { nowMs } from "../lib/clock";

/** How long a revocation is remembered here: far longer than any isolate caches a key lookup. */
export const REVOCATION_MEMORY_MS = 60 * 60_000;

export interface RateLimitDecision {
  /** Set when the credential presented with the hit was revoked here (see `revokeCredentials`). */
  revoked?: boolean;
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
 *
 * A project's object is also where its API keys' revocations are announced. Isolates cache key
 * lookups briefly (api-keys/key-cache.ts) to keep D1 off the hot path; since every API-key request
 * already calls this object, it answers "was this credential revoked?" in the same round trip, so a
 * revoked or rolled key is dead at once in every isolate, cached or not.
 */
export class RateLimiter extends DurableObject<object> {
  private hits: number[] = [];
  private revoked = new Map<string, number>();
  private retired = false;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL)");
      // Pruning deletes by time; without the index each prune scans the whole window.
      this.ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS hits_ts_idx ON hits (ts)");
      this.hits = this.ctx.storage.sql
        .exec<{ ts: number }>("SELECT ts FROM hits ORDER BY id")
        .toArray()
        .map((r) => r.ts);
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS revoked (credential TEXT PRIMARY KEY, at INTEGER NOT NULL)");
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS retired (at INTEGER NOT NULL)");
      for (const r of this.ctx.storage.sql.exec<{ credential: string; at: number }>("SELECT credential, at FROM revoked")) {
        this.revoked.set(r.credential, r.at);
      }
      this.retired = this.ctx.storage.sql.exec("SELECT at FROM retired LIMIT 1").toArray().length > 0;
    });
  }

  /**
   * Counts one request. With `credential` (an API key's hash), a revoked credential is reported and
   * not counted: the caller answers 401.
   */
  hit(limit: number, windowMs: number, credential?: string): RateLimitDecision {
    const now = nowMs();
    if (credential !== undefined && (this.retired || this.revoked.has(credential))) {
      return { revoked: true, allowed: false, limit, remaining: 0, resetMs: 0 };
    }
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

  /**
   * Marks credentials dead from now on. Entries outlive every isolate's cache (REVOCATION_MEMORY_MS),
   * after which D1, where the revocation is also written, answers on its own.
   */
  revokeCredentials(credentials: string[]): void {
    const now = nowMs();
    for (const credential of credentials) {
      this.revoked.set(credential, now);
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO revoked (credential, at) VALUES (?, ?)", credential, now);
    }
    const cutoff = now - REVOCATION_MEMORY_MS;
    for (const [credential, at] of this.revoked) if (at < cutoff) this.revoked.delete(credential);
    this.ctx.storage.sql.exec("DELETE FROM revoked WHERE at < ?", cutoff);
  }

  /** The project is gone: every credential presented here is dead, forever. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.ctx.storage.sql.exec("INSERT INTO retired (at) VALUES (?)", nowMs());
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
