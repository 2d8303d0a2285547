/**
 * Billing operations: the plans on offer (and, for platform admins, every plan and changes to
 * them), switching an organization's plan, the current period's bill, and invoices.
 */
import { and, asc, eq, exists, isNull } from "drizzle-orm";
import { auditEntry, auditEntryWhen, type AuditActor, type UserActor } from "../audit/record";
import { requireOrgAccess, stillHolds } from "../authz/access";
import { isUniqueViolation } from "../db/client";
import { belowCap, capReached, freeOrgsOwnedBy } from "../db/count-cap";
import { organizations, plans } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { page, type PageRequest } from "../lib/pagination";
import { currentMonth } from "../usage/service";
import { findInvoice, listInvoices } from "./invoices";
import { findActivePlan, orgPlan, parsePlan, type Plan } from "./plans";
import { forgetQuota } from "./quota";
import type { CreatePlanInput, UpdatePlanInput } from "./schemas";
import { PLAN_CHANGED_ACTION, priceSegments, sumSegments } from "./segments";

type OrgRow = typeof organizations.$inferSelect;

/** Every plan, cheapest first; only the ones offered to organizations unless `includeInactive`. */
export async function listPlans(deps: Pick<Deps, "db">, { includeInactive = false } = {}): Promise<Plan[]> {
  const rows = await deps.db
    .select()
    .from(plans)
    .where(includeInactive ? undefined : eq(plans.active, true))
    .orderBy(asc(plans.monthlyPriceCents), asc(plans.id))
    .all();
  return rows.map(parsePlan);
}

/**
 * Switches the org to another active plan at once (the caller holds `plan:change`). D1 has no
 * interactive transactions: the write re-checks everything it depends on (the caller still holds
 * the permission, the org is still on the plan we read, the target is still active), and the audit
 * entry is written under the same guard in the same batch.
 */
/**
 * Moves an org to another plan (owner). Moving to the free plan counts against the caller's
 * LIMIT_FREE_ORGS_PER_USER, checked in the UPDATE itself; otherwise an upgrade, a new free org and
 * a downgrade would add up to any number of free orgs.
 */
export async function changePlan(deps: Pick<Deps, "db" | "config">, caller: UserActor, orgId: string, planId: string): Promise<OrgRow> {
  const { db } = deps;
  const unknownPlan = () => validationFailed(`There is no active plan '${planId}'.`, [{ path: "plan", message: "Unknown or inactive plan" }]);
  const target = await findActivePlan(db, planId);
  if (!target) throw unknownPlan();
  const org = await db.select().from(organizations).where(eq(organizations.id, orgId)).get();
  if (!org) throw notFound("Organization");
  if (org.planId === target.id) return org;

  const at = nowMs();
  const toFree = target.id === "free";
  const freeCap = deps.config.limits.freeOrgsPerUser;
  const guard = and(
    eq(organizations.id, orgId),
    isNull(organizations.deletedAt),
    eq(organizations.planId, org.planId),
    stillHolds(db, orgId, caller.userId, "plan:change"),
    exists(db.select({ id: plans.id }).from(plans).where(and(eq(plans.id, target.id), eq(plans.active, true)))),
    toFree ? belowCap(freeOrgsOwnedBy(db, caller.userId), freeCap) : undefined,
  )!;
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      caller.audit,
      { action: PLAN_CHANGED_ACTION, resourceType: "org", resourceId: orgId, orgId, metadata: { from: org.planId, to: target.id } },
      exists(db.select({ id: organizations.id }).from(organizations).where(guard)),
      at,
    ),
    db.update(organizations).set({ planId: target.id, updatedAt: at }).where(guard).returning(),
  ]);
  const row = updated[0];
  if (!row) {
    // Something changed between the read and the write: report what, like a fresh request would.
    await requireOrgAccess(db, caller.userId, orgId, "plan:change");
    if (!(await findActivePlan(db, planId))) throw unknownPlan();
    if (toFree && ((await freeOrgsOwnedBy(db, caller.userId).get())?.n ?? 0) >= freeCap) {
      throw capReached("free-plan organizations you own", freeCap, "LIMIT_FREE_ORGS_PER_USER");
    }
    throw conflict("The organization's plan changed at the same time; read it again and retry.");
  }
  forgetQuota(orgId);
  return row;
}

/**
 * The current billing period (calendar month, UTC) priced so far, as its invoice would be: segment
 * by segment between plan changes, the current plan's fee prorated to the end of the month.
 */
export async function currentBill(deps: Pick<Deps, "db">, orgId: string) {
  const plan = await orgPlan(deps.db, orgId);
  if (!plan) throw notFound("Organization");
  const period = currentMonth();
  const segments = await priceSegments(deps.db, { id: orgId, planId: plan.id }, period);
  return { orgId, plan, period, segments, priced: sumSegments(segments) };
}

export async function listOrgInvoices(deps: Pick<Deps, "db">, orgId: string, { limit, cursor }: PageRequest) {
  return page(await listInvoices(deps.db, orgId, limit + 1, cursor), limit);
}

export async function getInvoice(deps: Pick<Deps, "db">, orgId: string, invoiceId: string) {
  const found = await findInvoice(deps.db, orgId, invoiceId);
  if (!found) throw notFound("Invoice");
  return found;
}

// Platform admin ----------------------------------------------------------------------------------
// Plans are not versioned: a change applies to every org on the plan from now on, including the
// current period's bill. Deactivating a plan stops new switches to it; orgs already on it stay.
// Audit entries have no org (plans belong to the platform).

export async function createPlan(deps: Pick<Deps, "db">, actor: AuditActor, input: CreatePlanInput): Promise<Plan> {
  const { db } = deps;
  const at = nowMs();
  const row = {
    id: input.id,
    name: input.name,
    monthlyPriceCents: input.monthly_price_cents,
    currency: input.currency,
    included: JSON.stringify(input.included),
    overageRates: JSON.stringify(input.overage_rates_micros),
    hardCap: input.hard_cap,
    active: input.active,
    createdAt: at,
    maxConcurrentEgress: input.max_concurrent_egress,
  };
  try {
    await db.batch([
      db.insert(plans).values(row),
      auditEntry(db, actor, { action: "plan.created", resourceType: "plan", resourceId: row.id, metadata: { ...input } }, at),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A plan '${input.id}' already exists.`);
    throw error;
  }
  return parsePlan(row);
}

/** Renames, re-prices, changes quotas, rates or the hard cap, or (de)activates a plan. */
export async function updatePlan(deps: Pick<Deps, "db">, actor: AuditActor, planId: string, input: UpdatePlanInput): Promise<Plan> {
  // New organizations start on `free` (organizations.plan_id's default): it must stay available.
  if (planId === "free" && input.active === false) throw conflict("The free plan is where new organizations start; it cannot be deactivated.");
  const { db } = deps;
  const at = nowMs();
  const changes: Partial<typeof plans.$inferInsert> = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.monthly_price_cents !== undefined) changes.monthlyPriceCents = input.monthly_price_cents;
  if (input.included !== undefined) changes.included = JSON.stringify(input.included);
  if (input.overage_rates_micros !== undefined) changes.overageRates = JSON.stringify(input.overage_rates_micros);
  if (input.hard_cap !== undefined) changes.hardCap = input.hard_cap;
  if (input.active !== undefined) changes.active = input.active;
  if (input.max_concurrent_egress !== undefined) changes.maxConcurrentEgress = input.max_concurrent_egress;
  const [, updated] = await db.batch([
    // Written only if the plan exists, in the same transaction as the change.
    auditEntryWhen(
      db,
      actor,
      { action: "plan.updated", resourceType: "plan", resourceId: planId, metadata: { ...input } },
      exists(db.select({ id: plans.id }).from(plans).where(eq(plans.id, planId))),
      at,
    ),
    db.update(plans).set(changes).where(eq(plans.id, planId)).returning(),
  ]);
  const row = updated[0];
  if (!row) throw notFound("Plan");
  return parsePlan(row);
}
