import { z } from "@hono/zod-openapi";
import { Name } from "../lib/schemas";
import { toIso } from "../lib/clock";
import { METER_NAMES, perMeter, type Meter } from "../usage/meters";
import type { InvoiceLineRow, InvoiceRow } from "./invoices";
import type { Plan } from "./plans";
import type { MeterCharge as PricedMeter, PricedUsage } from "./pricing";
import type { PricedSegment } from "./segments";

const CONCURRENT_EGRESS_DESCRIPTION = "Egresses an organization may have starting, active or ending at once; one more is refused with 402 quota_exceeded. Null: no cap.";

const MeterCounts = z.object(perMeter(() => z.number()));

const MICROS_DESCRIPTION = "Overage price per unit in micros: millionths of the plan's currency unit (500 = $0.0005). A meter absent here has no overage billing.";

export const PlanSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    currency: z.string().openapi({ description: "ISO 4217, lower case" }),
    monthly_price_cents: z.number().int().openapi({ description: "Base fee per calendar month, in cents" }),
    hard_cap: z.boolean().openapi({ description: "Usage stops at the included quantities (402 quota_exceeded) instead of billing overage" }),
    active: z.boolean().openapi({ description: "Offered: organizations can switch to it" }),
    included: MeterCounts.openapi({ description: "Units included per calendar month (UTC), by meter" }),
    overage_rates_micros: z.object(perMeter(() => z.number().int().optional())).openapi({ description: MICROS_DESCRIPTION }),
    max_concurrent_egress: z.number().int().nullable().openapi({ description: CONCURRENT_EGRESS_DESCRIPTION }),
  })
  .openapi("Plan");

export const ChangePlanBody = z.strictObject({ plan: z.string().min(1).max(64) }).openapi("ChangePlan");

const SegmentCharge = z.object({
  used: z.number().int(),
  included: z.number().int(),
  overage_units: z.number().int(),
  overage_unit_price_micros: z.number().int().nullable().openapi({ description: "Null: this meter's overage is not billed on this plan" }),
  overage_cents: z.number().int(),
});

const MeterCharge = SegmentCharge.extend({
  exhausted: z.boolean().openapi({ description: "Hard-cap plans: the quota is used up and new usage is refused until next month" }),
});

const charge = (c: PricedMeter) => ({
  used: c.used,
  included: c.included,
  overage_units: c.overageUnits,
  overage_unit_price_micros: c.unitPriceMicros,
  overage_cents: c.amountCents,
});

/** The API shape of each meter's charge so far (`Billing.meters`). */
export function serializeMeterCharges(meters: Record<Meter, PricedMeter>) {
  return perMeter((m) => ({ ...charge(meters[m]), exhausted: meters[m].exhausted }));
}

const PlanRef = z.object({ id: z.string(), name: z.string(), hard_cap: z.boolean() });

const BillSegment = z.object({
  plan: PlanRef,
  period_start: z.string(),
  period_end: z.string(),
  prorated: z.boolean().openapi({ description: "False only when the plan did not change all period" }),
  meters: z.object(perMeter(() => SegmentCharge)).openapi({ description: "The usage made during this segment against its prorated allowance" }),
  base_fee_cents: z.number().int(),
  overage_cents: z.number().int(),
  total_cents: z.number().int(),
});

export const BillingSchema = z
  .object({
    org_id: z.string(),
    plan: PlanRef.openapi({ description: "The plan in force now" }),
    currency: z.string(),
    period_start: z.string(),
    period_end: z.string(),
    meters: z.object(perMeter(() => MeterCharge)),
    base_fee_cents: z.number().int(),
    overage_cents: z.number().int(),
    total_cents: z.number().int().openapi({ description: "Base fee plus overage so far this period" }),
    quota_exhausted: z.boolean(),
    segments: z.array(BillSegment).openapi({
      description: "The period split at each plan change, oldest first (one segment when the plan did not change); the top-level figures are their sums",
    }),
  })
  .openapi("Billing");

const InvoiceLine = z.object({
  kind: z.string().openapi({ description: "`plan` for the base fee, else the meter" }),
  description: z.string(),
  quantity: z.number(),
  included_quantity: z.number(),
  unit_price_micros: z.number().int(),
  amount_cents: z.number().int(),
});

const invoiceFields = {
  id: z.string(),
  org_id: z.string(),
  plan: z.string(),
  status: z.enum(["draft", "open", "paid", "void"]),
  currency: z.string(),
  period_start: z.string(),
  period_end: z.string(),
  subtotal_cents: z.number().int(),
  total_cents: z.number().int(),
  created_at: z.string(),
  finalized_at: z.string().nullable(),
};

export const InvoiceSummarySchema = z.object(invoiceFields).openapi("InvoiceSummary");
export const InvoiceSchema = z.object({ ...invoiceFields, lines: z.array(InvoiceLine) }).openapi("Invoice");

// Platform admin ----------------------------------------------------------------------------------

const Count = z.number().int().min(0).max(1_000_000_000_000);
const Micros = z.number().int().min(0).max(1_000_000_000);

const IncludedInput = z.strictObject(perMeter(() => Count));
const RatesInput = z.strictObject(perMeter(() => Micros.optional())).openapi({ description: MICROS_DESCRIPTION });
const PriceCents = z.number().int().min(0).max(100_000_000);
const ConcurrentEgressInput = z.number().int().min(0).max(1_000_000).nullable().openapi({ description: CONCURRENT_EGRESS_DESCRIPTION });

export const CreatePlanBody = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, "2..32 characters: lower-case letters, digits, _ or -, starting with a letter"),
    name: Name,
    currency: z.string().regex(/^[a-z]{3}$/, "ISO 4217 code in lower case").default("usd"),
    monthly_price_cents: PriceCents,
    included: IncludedInput,
    overage_rates_micros: RatesInput.default({}),
    hard_cap: z.boolean().default(false),
    active: z.boolean().default(true),
    max_concurrent_egress: ConcurrentEgressInput.default(null),
  })
  .openapi("CreatePlan");

export const UpdatePlanBody = z
  .strictObject({
    name: Name.optional(),
    monthly_price_cents: PriceCents.optional(),
    included: IncludedInput.optional(),
    overage_rates_micros: RatesInput.optional(),
    hard_cap: z.boolean().optional(),
    active: z.boolean().optional(),
    max_concurrent_egress: ConcurrentEgressInput.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "Send at least one field to change" })
  .openapi("UpdatePlan");

export type CreatePlanInput = z.infer<typeof CreatePlanBody>;
export type UpdatePlanInput = z.infer<typeof UpdatePlanBody>;

const planRef = (plan: Plan) => ({ id: plan.id, name: plan.name, hard_cap: plan.hardCap });

/** The current period's bill as `GET /v1/orgs/{org_id}/billing` answers it. */
export function serializeBill(bill: { orgId: string; plan: Plan; period: { since: number; until: number }; priced: PricedUsage; segments: PricedSegment[] }) {
  const { plan, priced } = bill;
  return {
    org_id: bill.orgId,
    plan: planRef(plan),
    currency: plan.currency,
    period_start: toIso(bill.period.since),
    period_end: toIso(bill.period.until),
    meters: serializeMeterCharges(priced.meters),
    base_fee_cents: priced.baseFeeCents,
    overage_cents: priced.overageCents,
    total_cents: priced.totalCents,
    quota_exhausted: METER_NAMES.some((m) => priced.meters[m].exhausted),
    segments: bill.segments.map((s) => ({
      plan: planRef(s.plan),
      period_start: toIso(s.since),
      period_end: toIso(s.until),
      prorated: !s.whole,
      meters: perMeter((m) => charge(s.priced.meters[m])),
      base_fee_cents: s.priced.baseFeeCents,
      overage_cents: s.priced.overageCents,
      total_cents: s.priced.totalCents,
    })),
  };
}

export function serializeInvoice(invoice: InvoiceRow) {
  return {
    id: invoice.id,
    org_id: invoice.orgId,
    plan: invoice.planId,
    status: invoice.status,
    currency: invoice.currency,
    period_start: toIso(invoice.periodStart),
    period_end: toIso(invoice.periodEnd),
    subtotal_cents: invoice.subtotalCents,
    total_cents: invoice.totalCents,
    created_at: toIso(invoice.createdAt),
    finalized_at: invoice.finalizedAt === null ? null : toIso(invoice.finalizedAt),
  };
}

export function serializeInvoiceLine(l: InvoiceLineRow) {
  return {
    kind: l.kind,
    description: l.description,
    quantity: l.quantity,
    included_quantity: l.includedQuantity,
    unit_price_micros: l.unitPriceMicros,
    amount_cents: l.amountCents,
  };
}
