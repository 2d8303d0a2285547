/**
 * An organization's usage totals over a period, built on the usage area's `usageSeries` (rolled-up
 * buckets plus the hours the rollup has not covered yet, from raw events), so billing and the
 * usage API can never disagree about what an org used.
 */
import type { Database } from "../db/client";
import { toIso } from "../lib/clock";
import { usageRange, usageSeries } from "../usage/service";
import type { Meter } from "../usage/meters";

/** Totals per meter for [since, until) (UTC day-aligned bounds, e.g. a calendar month). */
export async function orgUsageTotals(db: Database, orgId: string, since: number, until: number): Promise<Record<Meter, number>> {
  const range = usageRange({ since: toIso(since), until: toIso(until), granularity: "day" });
  return (await usageSeries(db, { orgId }, range)).totals;
}
