/**
 * Usage series for a project or an organization: the rolled-up buckets, plus the recent hours the
 * rollup has not covered yet (of the previous and the current hour, those still marked in
 * `usage_dirty_hours`) computed from raw events, so the numbers are current without waiting for
 * the cron, and an hour already rolled up is never read event by event.
 */
import { and, asc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageDirtyHours, usageEvents, usageRollups } from "../db/schema";
import { nowMs, RFC3339_END_MS, toIso } from "../lib/clock";
import { validationFailed } from "../lib/errors";
import { isMeter, METER_NAMES, perMeter, type Meter } from "./meters";
import { DAY_MS, floorTo, HOUR_MS } from "./rollup";

export type Granularity = "hour" | "day";
export type UsageScope = { projectId: string } | { orgId: string };

const MAX_BUCKETS: Record<Granularity, number> = { hour: 24 * 31, day: 366 };

type Totals = Record<Meter, number>;
const zero = (): Totals => perMeter(() => 0);

/** The current calendar month in UTC: the default range, and the billing period. */
export function currentMonth(at = nowMs()): { since: number; until: number } {
  const d = new Date(at);
  return { since: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), until: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** Resolves `?since&until&granularity` to bucket-aligned bounds, or a validation error. */
export function usageRange(query: { since?: string; until?: string; granularity: Granularity }) {
  const unit = query.granularity === "hour" ? HOUR_MS : DAY_MS;
  const month = currentMonth();
  const rawSince = query.since ? Date.parse(query.since) : month.since;
  const rawUntil = query.until ? Date.parse(query.until) : month.until;
  if (!(rawUntil > rawSince)) throw validationFailed("until must be after since.", [{ path: "until", message: "Must be after since" }]);
  const since = floorTo(rawSince, unit);
  const until = floorTo(rawUntil - 1, unit) + unit;
  // Rounded up, the last bucket of 9999 ends in the year 10000, which RFC 3339 cannot write.
  if (until >= RFC3339_END_MS) throw validationFailed("The last bucket must end before the year 10000 (UTC).", [{ path: "until", message: "The last bucket must end before the year 10000 (UTC)" }]);
  if ((until - since) / unit > MAX_BUCKETS[query.granularity]) {
    const message = `At most ${MAX_BUCKETS[query.granularity]} ${query.granularity} buckets per request`;
    throw validationFailed(message + ".", [{ path: "since", message }]);
  }
  return { since, until, granularity: query.granularity, unit };
}

function rollupScope(scope: UsageScope): SQL {
  return "projectId" in scope ? eq(usageRollups.projectId, scope.projectId) : eq(usageRollups.orgId, scope.orgId);
}

function eventScope(scope: UsageScope): SQL {
  return "projectId" in scope ? eq(usageEvents.projectId, scope.projectId) : eq(usageEvents.orgId, scope.orgId);
}

/**
 * Where the live window of [since, until) starts: the first hour of the previous and current hour
 * still waiting for its rollup (read from raw events from there on), or `until` when both are
 * rolled up (everything from rollups). One seek on `usage_dirty_hours`' primary key.
 */
export async function liveWindowStart(db: Database, since: number, until: number): Promise<number> {
  const from = Math.max(since, Math.min(until, floorTo(nowMs(), HOUR_MS) - HOUR_MS));
  if (from >= until) return until;
  const first = await db
    .select({ hour: usageDirtyHours.hourStart })
    .from(usageDirtyHours)
    .where(and(gte(usageDirtyHours.hourStart, floorTo(from, HOUR_MS)), lt(usageDirtyHours.hourStart, until)))
    .orderBy(asc(usageDirtyHours.hourStart))
    .limit(1)
    .get();
  return first ? Math.max(from, first.hour) : until;
}

export async function usageSeries(db: Database, scope: UsageScope, range: ReturnType<typeof usageRange>) {
  const { since, until, unit, granularity } = range;
  const liveFrom = await liveWindowStart(db, since, until);
  const buckets = new Map<number, Totals>();
  for (let b = since; b < until; b += unit) buckets.set(b, zero());
  const add = (start: number, meter: string, quantity: number) => {
    const bucket = buckets.get(floorTo(start, unit));
    if (bucket && isMeter(meter)) bucket[meter] += quantity;
  };

  const rollups = (g: Granularity, from: number, to: number) =>
    from < to
      ? db
          .select({ start: usageRollups.bucketStart, meter: usageRollups.meter, quantity: sql<number>`SUM(${usageRollups.quantity})` })
          .from(usageRollups)
          .where(and(rollupScope(scope), eq(usageRollups.granularity, g), gte(usageRollups.bucketStart, from), lt(usageRollups.bucketStart, to)))
          .groupBy(usageRollups.bucketStart, usageRollups.meter)
          .all()
      : Promise.resolve([]);

  const rolled =
    granularity === "hour"
      ? await rollups("hour", since, liveFrom)
      : [
          // Whole days before the live window from day buckets; the start of the live window's day from hour buckets.
          ...(await rollups("day", since, floorTo(liveFrom, DAY_MS))),
          ...(await rollups("hour", Math.max(since, floorTo(liveFrom, DAY_MS)), liveFrom)),
        ];
  for (const r of rolled) add(r.start, r.meter, r.quantity);

  if (liveFrom < until) {
    // Bound numbers arrive as REAL in D1; the casts keep the division integral.
    const hourExpr = sql<number>`(${usageEvents.occurredAt} / CAST(${HOUR_MS} AS INTEGER)) * CAST(${HOUR_MS} AS INTEGER)`;
    const live = await db
      .select({ start: hourExpr, meter: usageEvents.meter, quantity: sql<number>`SUM(${usageEvents.quantity})` })
      .from(usageEvents)
      .where(and(eventScope(scope), gte(usageEvents.occurredAt, liveFrom), lt(usageEvents.occurredAt, until)))
      .groupBy(hourExpr, usageEvents.meter)
      .all();
    for (const r of live) add(r.start, r.meter, r.quantity);
  }

  const totals = zero();
  const series = [...buckets.entries()].map(([start, t]) => {
    for (const m of METER_NAMES) totals[m] += t[m];
    return { start: toIso(start), ...t };
  });
  return { since: toIso(since), until: toIso(until), granularity, totals, series };
}
