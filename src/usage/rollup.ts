/**
 * Rolling raw usage events up into hour and day buckets, incrementally and in bounded steps.
 *
 * - Only hours that received events since their last rollup are rolled up: a trigger on
 *   `usage_events` marks the event's hour in `usage_dirty_hours` (custom migration), whatever code
 *   path recorded it, including usage recorded late (a leave event delayed, a stale session closed
 *   by the timeout job).
 * - A few dirty hours are one `db.batch()` (one transaction): each hour's buckets recomputed from
 *   that hour's raw events, each of their days' buckets recomputed as the sum of its hour buckets,
 *   and the hours' marks cleared. No statement reads more than one hour of raw events or
 *   one day of hour buckets, so no statement's work grows with the month, and an event inserted
 *   while the job runs either is in the hour's sum or marks the hour again (D1 runs the batch as
 *   one transaction: nothing lands between the sum and the clear).
 * - Idempotent: buckets are REPLACED (`ON CONFLICT DO UPDATE SET quantity = excluded.quantity`),
 *   never incremented, so re-running an hour, or running two jobs at once, counts nothing twice.
 * - A run works through the oldest dirty hours first until none is left or its time budget is
 *   spent; the next run continues where it stopped.
 *
 * - Per project (`usage_rollups`) and per room and identity (`usage_dimension_rollups`, see
 *   `dimension-rollup.ts`) in the same batch, so `group_by` and the totals always agree.
 *
 * `ROLLUP_DIMENSIONS` are the columns copied from an event to its project bucket (grouped by);
 * `ROLLUP_KEY` is the bucket's primary key.
 */
import type { Database } from "../db/client";
import { nowMs } from "../lib/clock";
import { dimensionDayStatements, dimensionHourStatements } from "./dimension-rollup";
import { yieldToOtherWork } from "../lib/yield";

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

export const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;

/** Columns grouped by and copied from `usage_events` to `usage_rollups`. */
export const ROLLUP_DIMENSIONS = ["project_id", "org_id", "meter"] as const;
/** `usage_rollups`' primary key (the upsert's conflict target). */
export const ROLLUP_KEY = ["project_id", "meter", "granularity", "bucket_start"] as const;

/** Default wall-clock budget of one rollup run (a cron invocation may run for 15 minutes). */
export const ROLLUP_BUDGET_MS = 120_000;
const DIRTY_PAGE = 50;

const dims = ROLLUP_DIMENSIONS.join(", ");
const upsert = `ON CONFLICT (${ROLLUP_KEY.join(", ")}) DO UPDATE SET quantity = excluded.quantity, org_id = excluded.org_id, updated_at = excluded.updated_at`;

// Raw D1 statements: drizzle's batch cannot carry `db.run(sql)` queries. Bound numbers arrive as
// REAL; comparisons with them are numeric and the INTEGER columns store integral values as integers.
const HOUR_SQL = `INSERT INTO usage_rollups (${dims}, granularity, bucket_start, quantity, updated_at)
  SELECT ${dims}, 'hour', ?1, SUM(quantity), ?2 FROM usage_events
  WHERE occurred_at >= ?1 AND occurred_at < ?1 + ${HOUR_MS}
  GROUP BY ${dims} ${upsert}`;
const DAY_SQL = `INSERT INTO usage_rollups (${dims}, granularity, bucket_start, quantity, updated_at)
  SELECT ${dims}, 'day', ?1, SUM(quantity), ?2 FROM usage_rollups
  WHERE granularity = 'hour' AND bucket_start >= ?1 AND bucket_start < ?1 + ${DAY_MS}
  GROUP BY ${dims} ${upsert}`;
const CLEAR_SQL = `DELETE FROM usage_dirty_hours WHERE hour_start = ?1`;

/**
 * Rolls up `hours` (at most HOURS_PER_BATCH), each day they fall in, and clears their marks: one
 * transaction. Each statement still reads one hour of events or one day of hour buckets; grouping
 * a few hours per batch only saves round trips.
 */
export async function rollUpHours(db: Database, hours: number[]): Promise<void> {
  if (hours.length === 0) return;
  const d1 = db.$client;
  const at = nowMs();
  const days = [...new Set(hours.map((h) => floorTo(h, DAY_MS)))];
  await d1.batch([
    ...hours.flatMap((h) => [d1.prepare(HOUR_SQL).bind(h, at), ...dimensionHourStatements(d1, h, at)]),
    ...days.flatMap((d) => [d1.prepare(DAY_SQL).bind(d, at), ...dimensionDayStatements(d1, d, at)]),
    ...hours.map((h) => d1.prepare(CLEAR_SQL).bind(h)),
  ]);
}

/**
 * Hours rolled up per transaction: short enough not to hold D1's writer for long. At 1M events a
 * month (about 1,400 an hour) an 8-hour transaction held it for up to 1.8 s (`npm run bench:data`);
 * two hours keep one transaction well under a second.
 */
export const HOURS_PER_BATCH = 2;

export interface RollupResult {
  /** Hours rolled up by this run. */
  hours: number;
  /** False when the budget ran out with dirty hours left (the next run continues). */
  complete: boolean;
}

/**
 * Rolls up every dirty hour in [from, until) (default: all), oldest first, within `budgetMs` of
 * wall-clock time. Returns how many hours it rolled up and whether none is left.
 */
export async function rollUpDirtyHours(
  db: Database,
  opts: { from?: number; until?: number; budgetMs?: number } = {},
): Promise<RollupResult> {
  const deadline = Date.now() + (opts.budgetMs ?? ROLLUP_BUDGET_MS);
  const from = opts.from ?? 0;
  const until = opts.until ?? Number.MAX_SAFE_INTEGER;
  let hours = 0;
  let after = from - 1;
  for (;;) {
    const page = await db.$client
      .prepare("SELECT hour_start FROM usage_dirty_hours WHERE hour_start > ?1 AND hour_start >= ?2 AND hour_start < ?3 ORDER BY hour_start LIMIT ?4")
      .bind(after, from, until, DIRTY_PAGE)
      .all<{ hour_start: number }>();
    if (page.results.length === 0) return { hours, complete: true };
    const pending = page.results.map((r) => r.hour_start);
    for (let i = 0; i < pending.length; i += HOURS_PER_BATCH) {
      if (Date.now() >= deadline) return { hours, complete: false };
      const group = pending.slice(i, i + HOURS_PER_BATCH);
      await rollUpHours(db, group);
      hours += group.length;
      after = group[group.length - 1]!;
      await yieldToOtherWork();
    }
  }
}

/** True when some hour in [from, until) still waits for its rollup. */
export async function hasDirtyHours(db: Database, from: number, until: number): Promise<boolean> {
  const row = await db.$client
    .prepare("SELECT 1 AS one FROM usage_dirty_hours WHERE hour_start >= ?1 AND hour_start < ?2 LIMIT 1")
    .bind(from, until)
    .first();
  return row !== null;
}
