import { DurableObject } from "cloudflare:workers";
import { nowMs } from "../lib/clock";
import { HitWindow } from "./hit-window";

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
  /** When an admitted hit was counted: pass it to `release` to take that hit back. */
  at?: number;
}

/**
 * Storage is pruned at most this often: rows that left the window linger up to this long (reloading
 * drops them again), so a busy object does one DELETE per second instead of one per hit.
 */
const STORAGE_PRUNE_EVERY_MS = 1_000;

/**
 * Admitted hits reach storage in one transaction at most this long after the first of them. A
 * write in the request's own turn would hold every answer until SQLite commits (the output gate);
 * measured locally, that cost a third of a bare Durable Object call's throughput.
 */
export const FLUSH_AFTER_MS = 50;

/**
 * An exact sliding window for one limit key (one object per IP or per project).
 *
 * A request is admitted when fewer than `limit` admitted requests fall inside the last `windowMs`
 * (a request exactly `windowMs` old has left). Admitted requests are counted per millisecond
 * (`HitWindow`): each hit is O(1) amortized and the state is at most one pair per millisecond of
 * the window, whatever the limit. The object is single-threaded, so concurrent requests are
 * serialized and exactly `limit` are admitted. The counts live in memory (a check reads no storage)
 * and in the object's SQLite storage, one row per millisecond (`hit_counts`), written behind: the
 * hits of the last FLUSH_AFTER_MS go out in one transaction, so the window survives eviction (an
 * idle object is evicted long after its last flush) and a restart reloads it. What a crash or a
 * deploy can lose is the last FLUSH_AFTER_MS of admitted hits, which the new instance then does
 * not count.
 *
 * A project's object is also where its API keys' revocations are announced. Isolates cache key
 * lookups briefly (api-keys/key-cache.ts) to keep D1 off the hot path; since every API-key request
 * already calls this object, it answers "was this credential revoked?" in the same round trip, so a
 * revoked or rolled key is dead at once in every isolate, cached or not.
 */
export class RateLimiter extends DurableObject<object> {
  private window = new HitWindow();
  /** Admitted hits not yet in storage: millisecond → count. */
  private pending = new Map<number, number>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Where the window started at the newest hit: storage drops rows at or before it. */
  private cutoff = -Infinity;
  private storagePrunedAt = -Infinity;
  private revoked = new Map<string, number>();
  private retired = false;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS hit_counts (ms INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
      // Objects written before per-millisecond counts kept one row per hit: fold them in once.
      if (sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'hits'").toArray().length > 0) {
        this.ctx.storage.transactionSync(() => {
          sql.exec("INSERT OR REPLACE INTO hit_counts (ms, n) SELECT ts, COUNT(*) FROM hits GROUP BY ts");
          sql.exec("DROP TABLE hits");
        });
      }
      for (const r of sql.exec<{ ms: number; n: number }>("SELECT ms, n FROM hit_counts WHERE n > 0 ORDER BY ms")) this.window.add(r.ms, r.n);
      sql.exec("CREATE TABLE IF NOT EXISTS revoked (credential TEXT PRIMARY KEY, at INTEGER NOT NULL)");
      sql.exec("CREATE TABLE IF NOT EXISTS retired (at INTEGER NOT NULL)");
      for (const r of sql.exec<{ credential: string; at: number }>("SELECT credential, at FROM revoked")) {
        this.revoked.set(r.credential, r.at);
      }
      this.retired = sql.exec("SELECT at FROM retired LIMIT 1").toArray().length > 0;
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
    const window = this.window;
    if (window.total < limit) {
      const at = this.admit(now, 1);
      return { allowed: true, limit, remaining: limit - window.total, resetMs: window.oldest! + windowMs - now, at };
    }
    // Capacity returns when the hit that keeps the window at `limit` leaves it.
    const blocking = window.blockingTime(limit)!;
    return { allowed: false, limit, remaining: 0, resetMs: Math.max(1, blocking + windowMs - now) };
  }

  /** Counts `n` admitted hits at `at`, in memory now and in storage with the next flush. */
  protected admit(at: number, n: number): number {
    const ms = this.window.add(at, n);
    this.pending.set(ms, (this.pending.get(ms) ?? 0) + n);
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
    return ms;
  }

  /** Writes the pending hits (and, at most once a second, drops rows that left the window). */
  protected flush(): void {
    this.flushTimer = null;
    const pending = this.pending;
    this.pending = new Map();
    const now = nowMs();
    const prune = now - this.storagePrunedAt >= STORAGE_PRUNE_EVERY_MS;
    try {
      this.ctx.storage.transactionSync(() => {
        for (const [ms, n] of pending) {
          this.ctx.storage.sql.exec("INSERT INTO hit_counts (ms, n) VALUES (?, ?) ON CONFLICT (ms) DO UPDATE SET n = n + excluded.n", ms, n);
        }
        if (prune) this.ctx.storage.sql.exec("DELETE FROM hit_counts WHERE ms <= ?", this.cutoff);
      });
      if (prune) this.storagePrunedAt = now;
    } catch (error) {
      // Keep the counts for the next attempt; the in-memory window is unaffected.
      for (const [ms, n] of pending) this.pending.set(ms, (this.pending.get(ms) ?? 0) + n);
      this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
      console.error(JSON.stringify({ level: "error", message: "rate_limiter_flush_failed", error_message: error instanceof Error ? error.message : String(error) }));
    }
  }

  /**
   * Takes back one hit counted at `at` (from `hit`'s decision). Limits that count failures, such as
   * the per-account login limit, reserve a slot before the attempt (so a burst of parallel guesses
   * cannot all slip in) and give it back when the attempt succeeds.
   */
  release(at: number): void {
    if (!this.window.remove(at, 1)) return;
    this.pending.set(at, (this.pending.get(at) ?? 0) - 1);
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Forgets every hit: the per-account login limit after the password was reset. */
  clear(): void {
    this.window = new HitWindow();
    this.pending = new Map();
    this.ctx.storage.sql.exec("DELETE FROM hit_counts");
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
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hit_counts").one().n;
  }

  private prune(now: number, windowMs: number) {
    this.cutoff = now - windowMs;
    this.window.prune(this.cutoff);
  }
}
