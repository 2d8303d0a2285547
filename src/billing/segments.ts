/**
 * Pricing a billing period split by plan changes. The period is cut at each `org.plan_changed`
 * entry of the audit trail into segments, and each segment is priced with its own plan:
 *
 * - its base fee and included quantities are prorated by its share of the period in milliseconds
 *   (rounded half up), so pro → free on the last day still pays for the pro days;
 * - its usage is what happened during it (by each usage event's `occurred_at`), priced against its
 *   own allowance and rates. Usage made on a paid plan is billed at that plan's rates whatever the
 *   plan is at the end of the month, and usage made on a hard-cap plan is never billed.
 *
 * Usage per segment comes from the usage area's hourly series (rollups, plus the hours not rolled
 * up yet from raw events), so it agrees with `GET …/usage`. Only the hours a plan changed in are
 * read event by event and split at the change; if those events no longer add up to the hour's
 * rollup (raw events are kept USAGE_EVENT_RETENTION_DAYS, 35 by default, so an older hour may be
 * gone), or the hour holds more changes than one statement can bind (about 88), that hour's
 * quantity is split by time instead.
 *
 * Invoices and the current period's bill both price through `priceSegments`, so the bill read on
 * the last day of a month shows what its invoice will say.
 */
import { and, asc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditLogs, usageEvents } from "../db/schema";
import { toIso } from "../lib/clock";
import { METER_NAMES, perMeter, type Meter } from "../usage/meters";
import { HOUR_MS } from "../usage/rollup";
import { usageRange, usageSeries } from "../usage/service";
import { findPlan, type Plan } from "./plans";
import { priceUsage, type PricedUsage } from "./pricing";
import { orgUsageTotals } from "./usage-totals";

export const PLAN_CHANGED_ACTION = "org.plan_changed";

export interface PlanSegment {
  planId: string;
  since: number;
  until: number;
}

export interface PricedSegment extends PlanSegment {
  /** The plan as offered (full fee and allowances). */
  plan: Plan;
  /** True when the segment is the whole period: nothing was prorated. */
  whole: boolean;
  /** The segment's usage priced against its prorated fee and allowances. */
  priced: PricedUsage;
}

type Totals = Record<Meter, number>;

const parseMetadata = (metadata: string) => JSON.parse(metadata) as { from?: unknown; to?: unknown };

/** The org's plan at `at`: the `from` of the first plan change at or after it, else its plan now. */
async function planAt(db: Database, orgId: string, currentPlanId: string, at: number): Promise<string> {
  const change = await db
    .select({ metadata: auditLogs.metadata })
    .from(auditLogs)
    .where(and(eq(auditLogs.orgId, orgId), eq(auditLogs.action, PLAN_CHANGED_ACTION), gte(auditLogs.createdAt, at)))
    .orderBy(asc(auditLogs.createdAt), asc(auditLogs.id))
    .limit(1)
    .get();
  const from = change ? parseMetadata(change.metadata).from : undefined;
  return typeof from === "string" ? from : currentPlanId;
}

/** The plans in force during [since, until), in order and never empty: split at each `org.plan_changed`. */
export async function planSegments(db: Database, orgId: string, currentPlanId: string, since: number, until: number): Promise<PlanSegment[]> {
  const changes = await db
    .select({ metadata: auditLogs.metadata, createdAt: auditLogs.createdAt })
    .from(auditLogs)
    .where(and(eq(auditLogs.orgId, orgId), eq(auditLogs.action, PLAN_CHANGED_ACTION), gte(auditLogs.createdAt, since), lt(auditLogs.createdAt, until)))
    .orderBy(asc(auditLogs.createdAt), asc(auditLogs.id))
    .all();
  const segments: PlanSegment[] = [];
  let planId = await planAt(db, orgId, currentPlanId, since);
  let start = since;
  for (const change of changes) {
    const to = parseMetadata(change.metadata).to;
    if (typeof to !== "string") continue;
    // Changes in the same millisecond leave no empty segment: boundaries strictly increase.
    if (change.createdAt > start) segments.push({ planId, since: start, until: change.createdAt });
    planId = to;
    start = change.createdAt;
  }
  segments.push({ planId, since: start, until });
  return segments;
}

/** `value × part / whole`, rounded half up, in integers. */
function prorate(value: number, part: number, whole: number): number {
  return Number((BigInt(value) * BigInt(part) * 2n + BigInt(whole)) / (BigInt(whole) * 2n));
}

/**
 * Splits a whole `total` in proportion to `weights` so the parts add up to it exactly (largest
 * remainder; ties go to the earlier part). A fractional total, should one appear, is split as is.
 */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  if (!Number.isSafeInteger(total)) return weights.map((w) => (total * w) / sum);
  const exact = weights.map((w) => BigInt(total) * BigInt(w));
  const parts = exact.map((e) => e / BigInt(sum));
  let left = total - Number(parts.reduce((a, p) => a + p, 0n));
  const byRemainder = exact.map((e, i) => ({ i, r: e % BigInt(sum) })).sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    parts[i]! += 1n;
  }
  return parts.map(Number);
}

/** Index of the segment `at` falls in: how many boundaries (later segments' starts) are at or before it. */
function segmentIndex(boundaries: number[], at: number): number {
  let i = 0;
  while (i < boundaries.length && boundaries[i]! <= at) i++;
  return i;
}

/** D1 binds at most 100 parameters per statement; each split hour takes two, each boundary one. */
const MAX_SPLIT_PARAMS = 90;

/**
 * Raw usage of the hours in `hours` (each containing at least one boundary), summed per hour, meter
 * and segment. Chunked so no statement binds too many parameters; each chunk covers consecutive
 * split hours, so every boundary is before it, inside its hours, or after it.
 */
async function rawUsageBySegment(db: Database, orgId: string, hours: number[], boundaries: number[]) {
  const found = new Map<string, Map<number, number>>();
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let params = 0;
  for (const hour of hours) {
    const cost = 2 + boundaries.filter((b) => b > hour && b < hour + HOUR_MS).length;
    // An hour with more plan changes than one statement can bind is split by time (below); no
    // chunk spans it, or the chunk would bind its boundaries.
    const tooMany = cost > MAX_SPLIT_PARAMS;
    if (chunk.length > 0 && (tooMany || params + cost > MAX_SPLIT_PARAMS)) {
      chunks.push(chunk);
      chunk = [];
      params = 0;
    }
    if (tooMany) continue;
    chunk.push(hour);
    params += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);

  const at = usageEvents.occurredAt;
  for (const chunkHours of chunks) {
    const first = chunkHours[0]!;
    const end = chunkHours[chunkHours.length - 1]! + HOUR_MS;
    const base = segmentIndex(boundaries, first);
    const inside = boundaries.filter((b) => b > first && b < end);
    // How many of the chunk's boundaries an event is at or after: added to `base`, its segment.
    const after = sql.join(
      inside.map((b) => sql`(${at} >= ${b})`),
      sql` + `,
    );
    const hourOf = sql`(${at} / ${sql.raw(String(HOUR_MS))}) * ${sql.raw(String(HOUR_MS))}`;
    const rows = await db
      .select({ hour: sql<number>`${hourOf}`.as("hour"), meter: usageEvents.meter, after: sql<number>`${after}`.as("after_n"), quantity: sql<number>`SUM(${usageEvents.quantity})` })
      .from(usageEvents)
      .where(and(eq(usageEvents.orgId, orgId), or(...chunkHours.map((h) => and(gte(at, h), lt(at, h + HOUR_MS))))))
      .groupBy(sql`hour`, usageEvents.meter, sql`after_n`)
      .all();
    for (const r of rows) {
      const key = `${r.hour}|${r.meter}`;
      const bySegment = found.get(key) ?? new Map<number, number>();
      const segment = base + Number(r.after);
      bySegment.set(segment, (bySegment.get(segment) ?? 0) + r.quantity);
      found.set(key, bySegment);
    }
  }
  return found;
}

/** Each segment's usage over its own time: one total per segment, in order. */
export async function segmentUsage(db: Database, orgId: string, segments: PlanSegment[]): Promise<Totals[]> {
  const since = segments[0]!.since;
  const until = segments[segments.length - 1]!.until;
  if (segments.length === 1) return [await orgUsageTotals(db, orgId, since, until)];

  const boundaries = segments.slice(1).map((s) => s.since);
  const totals = segments.map(() => perMeter(() => 0));
  const { series } = await usageSeries(db, { orgId }, usageRange({ since: toIso(since), until: toIso(until), granularity: "hour" }));
  const split: { hour: number; bucket: Totals }[] = [];
  for (const bucket of series) {
    const hour = Date.parse(bucket.start);
    const first = segmentIndex(boundaries, hour);
    if (first === segmentIndex(boundaries, hour + HOUR_MS - 1)) {
      for (const m of METER_NAMES) totals[first]![m] += bucket[m];
    } else {
      split.push({ hour, bucket });
    }
  }
  if (split.length === 0) return totals;

  const raw = await rawUsageBySegment(
    db,
    orgId,
    split.map((s) => s.hour),
    boundaries,
  );
  for (const { hour, bucket } of split) {
    for (const m of METER_NAMES) {
      const quantity = bucket[m];
      if (quantity === 0) continue;
      const parts = raw.get(`${hour}|${m}`) ?? new Map<number, number>();
      if ([...parts.values()].reduce((a, q) => a + q, 0) === quantity) {
        for (const [segment, q] of parts) totals[segment]![m] += q;
        continue;
      }
      // The raw events no longer match the hour (pruned, or recorded after its rollup), or the
      // hour held too many changes to read them: by time.
      const overlapping = segments.flatMap((s, i) => {
        const ms = Math.min(s.until, hour + HOUR_MS) - Math.max(s.since, hour);
        return ms > 0 ? [{ i, ms }] : [];
      });
      const shares = apportion(
        quantity,
        overlapping.map((o) => o.ms),
      );
      overlapping.forEach((o, k) => (totals[o.i]![m] += shares[k]!));
    }
  }
  return totals;
}

/** Prices `period` for the org segment by segment (one segment when its plan did not change). */
export async function priceSegments(db: Database, org: { id: string; planId: string }, period: { since: number; until: number }): Promise<PricedSegment[]> {
  const segments = await planSegments(db, org.id, org.planId, period.since, period.until);
  const used = await segmentUsage(db, org.id, segments);
  // Prorated by whole seconds in each plan: a change's time as the API shows it (to the second).
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const length = seconds(period.until) - seconds(period.since);
  const plans = new Map<string, Plan>();
  const priced: PricedSegment[] = [];
  for (const [i, segment] of segments.entries()) {
    let plan = plans.get(segment.planId);
    if (!plan) {
      const found = await findPlan(db, segment.planId);
      if (!found) throw new Error(`plan ${segment.planId} of org ${org.id} does not exist`);
      plans.set(found.id, (plan = found));
    }
    const part = seconds(segment.until) - seconds(segment.since);
    const whole = part === length;
    const share = (n: number) => (whole ? n : prorate(Math.ceil(n), part, length));
    const segmentPlan: Plan = { ...plan, monthlyPriceCents: share(plan.monthlyPriceCents), included: perMeter((m) => share(plan.included[m])) };
    priced.push({ ...segment, plan, whole, priced: priceUsage(segmentPlan, used[i]!) });
  }
  return priced;
}

/** The segments' charges added up per meter, as one period's (the current bill's summary). */
export function sumSegments(segments: PricedSegment[]): PricedUsage {
  const current = segments[segments.length - 1]!.priced;
  if (segments.length === 1) return current;
  const add = (pick: (p: PricedUsage) => number) => segments.reduce((a, s) => a + pick(s.priced), 0);
  const now = segments[segments.length - 1]!.plan;
  const meters = perMeter((m) => {
    const sum = (pick: (c: PricedUsage["meters"][Meter]) => number) => add((p) => pick(p.meters[m]));
    const used = sum((c) => c.used);
    return {
      used,
      included: sum((c) => c.included),
      overageUnits: sum((c) => c.overageUnits),
      // The rate of the plan in force now: what new usage is billed at.
      unitPriceMicros: current.meters[m].unitPriceMicros,
      amountCents: sum((c) => c.amountCents),
      // As the quota decides (quota.ts): the month's usage against the current plan's monthly allowance.
      exhausted: now.hardCap && used >= now.included[m],
    };
  });
  return { meters, baseFeeCents: add((p) => p.baseFeeCents), overageCents: add((p) => p.overageCents), totalCents: add((p) => p.totalCents) };
}
