/**
 * `group_by=room|identity`: the same range and the same sources as the usage series (rolled-up
 * buckets, then raw events for the hours the rollup may not have covered yet), summed per room or
 * identity instead of per bucket. Groups come from `usage_dimension_rollups`, so they outlive raw
 * events. Sorted by participant minutes (largest first), then key.
 */
import { and, eq, gte, isNotNull, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageDimensionRollups, usageEvents } from "../db/schema";
import type { Dimension } from "./dimension-rollup";
import { liveWindowStart, usageRange, usageSeries, type UsageScope } from "./service";
import { isMeter, perMeter, type Meter } from "./meters";
import { DAY_MS, floorTo } from "./rollup";

/** Groups returned at most (the largest ones). */
export const MAX_GROUPS = 1000;

type Totals = Record<Meter, number>;

function rollupScope(scope: UsageScope): SQL {
  return "projectId" in scope ? eq(usageDimensionRollups.projectId, scope.projectId) : eq(usageDimensionRollups.orgId, scope.orgId);
}

export async function usageGroups(db: Database, scope: UsageScope, range: ReturnType<typeof usageRange>, dimension: Dimension) {
  const { since, until, granularity } = range;
  const liveFrom = await liveWindowStart(db, since, until);
  const groups = new Map<string, Totals>();
  const add = (key: string | null, meter: string, quantity: number) => {
    if (key === null || !isMeter(meter)) return;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = perMeter(() => 0)));
    g[meter] += quantity;
  };
  const rollups = async (g: "hour" | "day", from: number, to: number) => {
    if (from >= to) return;
    const rows = await db
      .select({ key: usageDimensionRollups.key, meter: usageDimensionRollups.meter, quantity: sql<number>`SUM(${usageDimensionRollups.quantity})` })
      .from(usageDimensionRollups)
      .where(
        and(
          rollupScope(scope),
          eq(usageDimensionRollups.dimension, dimension),
          eq(usageDimensionRollups.granularity, g),
          gte(usageDimensionRollups.bucketStart, from),
          lt(usageDimensionRollups.bucketStart, to),
        ),
      )
      .groupBy(usageDimensionRollups.key, usageDimensionRollups.meter)
      .all();
    for (const r of rows) add(r.key, r.meter, r.quantity);
  };
  if (granularity === "hour") await rollups("hour", since, liveFrom);
  else {
    await rollups("day", since, floorTo(liveFrom, DAY_MS));
    await rollups("hour", Math.max(since, floorTo(liveFrom, DAY_MS)), liveFrom);
  }
  if (liveFrom < until) {
    const column = usageEvents[dimension];
    const live = await db
      .select({ key: column, meter: usageEvents.meter, quantity: sql<number>`SUM(${usageEvents.quantity})` })
      .from(usageEvents)
      .where(
        and(
          "projectId" in scope ? eq(usageEvents.projectId, scope.projectId) : eq(usageEvents.orgId, scope.orgId),
          gte(usageEvents.occurredAt, liveFrom),
          lt(usageEvents.occurredAt, until),
          isNotNull(column),
        ),
      )
      .groupBy(column, usageEvents.meter)
      .all();
    for (const r of live) add(r.key, r.meter, r.quantity);
  }
  const sorted = [...groups.entries()]
    .map(([key, t]) => ({ key, ...t }))
    .sort((a, b) => b.participant_minutes - a.participant_minutes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, MAX_GROUPS);
  // Totals as the series reports them: usage without a room or identity counts there too.
  const { series: _series, ...rest } = await usageSeries(db, scope, range);
  return { ...rest, group_by: dimension, groups: sorted };
}
