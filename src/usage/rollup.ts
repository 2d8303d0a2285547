/**
 * Rolling raw usage events up into hour and day buckets per project and meter. Idempotent by
 * construction: a window is recomputed from the raw events and REPLACES the buckets
 * (INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE SET quantity = excluded.quantity), so running
 * it twice, or over overlapping windows, never counts anything twice.
 *
 * Usage is bucketed by when it happened (`occurred_at`, e.g. a session's end), and may be recorded
 * late (a leave event delayed, a stale session closed by the timeout job), so the hourly job
 * recomputes a trailing window, and the daily job a whole billing period's worth.
 */
import type { Database } from "../db/client";
import { nowMs } from "../lib/clock";
import { dimensionBuckets } from "./dimension-rollup";

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

export const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;

/**
 * Recomputes every hour and day bucket overlapping [from, to), per project and per room and
 * identity (`dimension-rollup.ts`); returns the windows used.
 */
export async function rollUpUsage(db: Database, from: number, to: number) {
  const at = nowMs();
  const hourFrom = floorTo(from, HOUR_MS);
  const hourTo = floorTo(to - 1, HOUR_MS) + HOUR_MS;
  const dayFrom = floorTo(from, DAY_MS);
  const dayTo = floorTo(to - 1, DAY_MS) + DAY_MS;
  // Raw D1 statements: drizzle's batch cannot carry `db.run(sql)` queries.
  const d1 = db.$client;
  const bucket = (unit: number, granularity: "hour" | "day", start: number, end: number) =>
    d1
      .prepare(
        `INSERT INTO usage_rollups (project_id, org_id, meter, granularity, bucket_start, quantity, updated_at)
         SELECT project_id, org_id, meter, ?1, (occurred_at / CAST(?2 AS INTEGER)) * CAST(?2 AS INTEGER) AS bucket, SUM(quantity), ?3
         FROM usage_events
         WHERE occurred_at >= ?4 AND occurred_at < ?5
         GROUP BY project_id, org_id, meter, bucket
         ON CONFLICT (project_id, meter, granularity, bucket_start)
         DO UPDATE SET quantity = excluded.quantity, org_id = excluded.org_id, updated_at = excluded.updated_at`,
      )
      .bind(granularity, unit, at, start, end);
  await d1.batch([
    bucket(HOUR_MS, "hour", hourFrom, hourTo),
    bucket(DAY_MS, "day", dayFrom, dayTo),
    ...dimensionBuckets(d1, { unit: HOUR_MS, granularity: "hour", start: hourFrom, end: hourTo, at }),
    ...dimensionBuckets(d1, { unit: DAY_MS, granularity: "day", start: dayFrom, end: dayTo, at }),
  ]);
  return { hours: [hourFrom, hourTo], days: [dayFrom, dayTo] };
}
