/**
 * Pricing a period's usage against a plan, in integer arithmetic only.
 *
 * - Usage is counted in whole units (minutes are rounded up per session when metered; tokens are
 *   counts); a fractional total, should one ever appear, is rounded up to a whole unit.
 * - Overage units = used − included, never negative.
 * - A line's amount is computed exactly in micros (units × micros per unit, as BigInt, so no float
 *   and no overflow), then converted to cents ONCE per line, rounding half up
 *   (1 cent = 10,000 micros; 4,999 micros → 0 ¢, 5,000 micros → 1 ¢). Totals are sums of line cents,
 *   so an invoice's lines always add up to its total.
 * - Hard-cap plans never bill overage (their quota refuses the usage instead), whatever their rates.
 */
import { METER_NAMES, type Meter } from "../usage/meters";
import type { Plan } from "./plans";

export const MICROS_PER_CENT = 10_000n;

/** Micros → cents, rounding half up (amounts are never negative). */
export function microsToCents(micros: bigint): number {
  return Number((micros + MICROS_PER_CENT / 2n) / MICROS_PER_CENT);
}

export interface MeterCharge {
  used: number;
  included: number;
  overageUnits: number;
  /** Null when the plan bills no overage for this meter. */
  unitPriceMicros: number | null;
  amountCents: number;
  /** Hard-cap plans only: the included quantity is used up, so new usage is refused. */
  exhausted: boolean;
}

export interface PricedUsage {
  meters: Record<Meter, MeterCharge>;
  baseFeeCents: number;
  overageCents: number;
  totalCents: number;
}

export function priceUsage(plan: Plan, used: Record<Meter, number>): PricedUsage {
  const meters = {} as Record<Meter, MeterCharge>;
  let overageCents = 0;
  for (const m of METER_NAMES) {
    const units = Math.ceil(used[m]);
    const included = plan.included[m];
    const overageUnits = Math.max(0, units - included);
    const rate = plan.hardCap ? null : (plan.overageRatesMicros[m] ?? null);
    const amountCents = rate === null ? 0 : microsToCents(BigInt(overageUnits) * BigInt(rate));
    overageCents += amountCents;
    meters[m] = { used: units, included, overageUnits, unitPriceMicros: rate, amountCents, exhausted: plan.hardCap && units >= included };
  }
  return { meters, baseFeeCents: plan.monthlyPriceCents, overageCents, totalCents: plan.monthlyPriceCents + overageCents };
}
