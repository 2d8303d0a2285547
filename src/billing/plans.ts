/**
 * Plans: reference data every organization points at. The table keeps `included` and
 * `overage_rates` as JSON text; this module is the one place that parses them, so every reader
 * (pricing, quota, invoices, the API) sees the same typed plan.
 *
 * Money units: the monthly fee is in integer cents; overage rates are integer micros (millionths of
 * the plan's currency unit, e.g. 500 = $0.0005) per unit of the meter.
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { organizations, plans } from "../db/schema";
import { METER_NAMES, perMeter, type Meter } from "../usage/meters";

export type PlanRow = typeof plans.$inferSelect;

export interface Plan {
  id: string;
  name: string;
  monthlyPriceCents: number;
  currency: string;
  /** Units included per calendar month, by meter (a meter absent from the JSON includes 0). */
  included: Record<Meter, number>;
  /** Overage price per unit in micros, by meter; absent = that meter's overage is not billed. */
  overageRatesMicros: Partial<Record<Meter, number>>;
  hardCap: boolean;
  /** Egresses the org may have starting, active or ending at once; null = no cap. */
  maxConcurrentEgress: number | null;
  active: boolean;
  createdAt: number;
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export function parsePlan(row: PlanRow): Plan {
  const included = parseJsonObject(row.included);
  const rates = parseJsonObject(row.overageRates);
  const overageRatesMicros: Partial<Record<Meter, number>> = {};
  for (const m of METER_NAMES) if (isCount(rates[m])) overageRatesMicros[m] = rates[m];
  return {
    id: row.id,
    name: row.name,
    monthlyPriceCents: row.monthlyPriceCents,
    currency: row.currency,
    included: perMeter((m) => (isCount(included[m]) ? included[m] : 0)),
    overageRatesMicros,
    hardCap: row.hardCap,
    maxConcurrentEgress: row.maxConcurrentEgress,
    active: row.active,
    createdAt: row.createdAt,
  };
}

export async function findPlan(db: Database, planId: string): Promise<Plan | null> {
  const row = await db.select().from(plans).where(eq(plans.id, planId)).get();
  return row ? parsePlan(row) : null;
}

export async function findActivePlan(db: Database, planId: string): Promise<Plan | null> {
  const row = await db.select().from(plans).where(and(eq(plans.id, planId), eq(plans.active, true))).get();
  return row ? parsePlan(row) : null;
}

/** The organization's current plan (whether or not the plan is still offered to new customers). */
export async function orgPlan(db: Database, orgId: string): Promise<Plan | null> {
  const row = await db.select({ plan: plans }).from(organizations).innerJoin(plans, eq(plans.id, organizations.planId)).where(eq(organizations.id, orgId)).get();
  return row ? parsePlan(row.plan) : null;
}

/** The API shape of a plan (public list and admin endpoints). */
export function serializePlan(p: Plan) {
  return {
    id: p.id,
    name: p.name,
    currency: p.currency,
    monthly_price_cents: p.monthlyPriceCents,
    hard_cap: p.hardCap,
    active: p.active,
    included: p.included,
    overage_rates_micros: p.overageRatesMicros,
    max_concurrent_egress: p.maxConcurrentEgress,
  };
}
