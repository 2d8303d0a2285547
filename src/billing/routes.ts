/**
 * Plans, plan changes, the current period's bill and invoices:
 * `GET /v1/plans` (public: pricing is public; limited per client IP),
 * `PUT /v1/orgs/{org_id}/plan` (owner), `GET /v1/orgs/{org_id}/billing`,
 * `GET /v1/orgs/{org_id}/invoices[/{in_id}]` (any member: `billing:read`).
 */
import { createRoute } from "@hono/zod-openapi";
import { currentUser, orgAccess } from "../auth/caller";
import { and, asc, eq, exists, isNull } from "drizzle-orm";
import { auditActor, auditEntryWhen } from "../audit/record";
import { stillHolds } from "../authz/access";
import { organizations, plans } from "../db/schema";
import { nowMs, toIso } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { createRouter } from "../router";
import { page } from "../lib/pagination";
import { OrgSchema, serializeOrg } from "../orgs/schemas";
import { currentMonth } from "../usage/query";
import { METER_NAMES } from "../usage/meters";
import { adminPlanRoutes } from "./admin-routes";
import { findActivePlan, orgPlan, parsePlan, serializePlan } from "./plans";
import { findInvoice, listInvoices, PLAN_CHANGED_ACTION, serializeInvoice, serializeInvoiceLine } from "./invoices";
import { priceUsage } from "./pricing";
import { forgetQuota } from "./quota";
import { BillingSchema, ChangePlanBody, InvoiceSchema, InvoiceSummarySchema, PlanSchema, serializeMeterCharges } from "./schemas";
import { orgUsageTotals } from "./usage-totals";
import { InvoiceParams, OrgParams } from "../lib/params";

export const billingRoutes = createRouter();

const tags = ["Billing"];

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/plans",
    tags,
    summary: "Plans on offer, cheapest first (no authentication needed)",
    responses: { 200: jsonContent(listOf(PlanSchema), "Active plans; one page, next_cursor is always null"), 429: errorResponses[429] },
  }),
  async (c) => {
    const rows = await c.var.db.select().from(plans).where(eq(plans.active, true)).orderBy(asc(plans.monthlyPriceCents), asc(plans.id)).all();
    return c.json({ data: rows.map((r) => serializePlan(parsePlan(r))), next_cursor: null }, 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/orgs/{org_id}/plan",
    tags,
    summary: "Switch the organization to another active plan (owner). Takes effect at once; no proration.",
    security: bearerSecurity,
    request: { params: OrgParams, body: jsonBody(ChangePlanBody) },
    responses: { 200: jsonContent(OrgSchema, "The organization on its new plan"), ...errorResponses, ...conflictResponse("The plan changed concurrently") },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { plan: planId } = c.req.valid("json");
    const db = c.var.db;
    const access = await orgAccess(c, org_id, "plan:change");
    const unknownPlan = () => validationFailed(`There is no active plan '${planId}'.`, [{ path: "plan", message: "Unknown or inactive plan" }]);
    const target = await findActivePlan(db, planId);
    if (!target) throw unknownPlan();
    const org = await db.select().from(organizations).where(eq(organizations.id, org_id)).get();
    if (!org) throw notFound("Organization");
    if (org.planId === target.id) return c.json(serializeOrg(org, access.role), 200);

    // D1 has no interactive transactions: the write re-checks everything it depends on (the
    // caller is still an owner, the org still on the plan we read, the target still active), and
    // the audit entry is written under the same guard in the same batch.
    const at = nowMs();
    const guard = and(
      eq(organizations.id, org_id),
      isNull(organizations.deletedAt),
      eq(organizations.planId, org.planId),
      stillHolds(db, org_id, currentUser(c).userId, "plan:change"),
      exists(db.select({ id: plans.id }).from(plans).where(and(eq(plans.id, target.id), eq(plans.active, true)))),
    )!;
    const [, updated] = await db.batch([
      auditEntryWhen(
        db,
        auditActor(c),
        { action: PLAN_CHANGED_ACTION, resourceType: "org", resourceId: org_id, orgId: org_id, metadata: { from: org.planId, to: target.id } },
        exists(db.select({ id: organizations.id }).from(organizations).where(guard)),
        at,
      ),
      db.update(organizations).set({ planId: target.id, updatedAt: at }).where(guard).returning(),
    ]);
    const row = updated[0];
    if (!row) {
      // Something changed between the read and the write: report what, like a fresh request would.
      await orgAccess(c, org_id, "plan:change");
      if (!(await findActivePlan(db, planId))) throw unknownPlan();
      throw conflict("The organization's plan changed at the same time; read it again and retry.");
    }
    forgetQuota(org_id);
    return c.json(serializeOrg(row, access.role), 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/billing",
    tags,
    summary: "The current billing period (calendar month, UTC): usage against the plan, overage and the total so far",
    security: bearerSecurity,
    request: { params: OrgParams },
    responses: { 200: jsonContent(BillingSchema, "Current period"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const db = c.var.db;
    await orgAccess(c, org_id, "billing:read");
    const plan = await orgPlan(db, org_id);
    if (!plan) throw notFound("Organization");
    const period = currentMonth();
    const priced = priceUsage(plan, await orgUsageTotals(db, org_id, period.since, period.until));
    const meters = serializeMeterCharges(priced.meters);
    return c.json(
      {
        org_id,
        plan: { id: plan.id, name: plan.name, hard_cap: plan.hardCap },
        currency: plan.currency,
        period_start: toIso(period.since),
        period_end: toIso(period.until),
        meters,
        base_fee_cents: priced.baseFeeCents,
        overage_cents: priced.overageCents,
        total_cents: priced.totalCents,
        quota_exhausted: METER_NAMES.some((m) => priced.meters[m].exhausted),
      },
      200,
    );
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/invoices",
    tags,
    summary: "Invoices, newest first (lines on the single-invoice endpoint)",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(InvoiceSummarySchema), "Invoices"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await orgAccess(c, org_id, "billing:read");
    const result = page(await listInvoices(c.var.db, org_id, limit + 1, cursor), limit);
    return c.json({ data: result.rows.map((r) => serializeInvoice(r)), next_cursor: result.nextCursor }, 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/invoices/{in_id}",
    tags,
    summary: "One invoice with its lines",
    security: bearerSecurity,
    request: { params: InvoiceParams },
    responses: { 200: jsonContent(InvoiceSchema, "The invoice"), ...errorResponses },
  }),
  async (c) => {
    const { org_id, in_id } = c.req.valid("param");
    await orgAccess(c, org_id, "billing:read");
    const found = await findInvoice(c.var.db, org_id, in_id);
    if (!found) throw notFound("Invoice");
    return c.json({ ...serializeInvoice(found.invoice), lines: found.lines.map(serializeInvoiceLine) }, 200);
  },
);

billingRoutes.route("/", adminPlanRoutes);
