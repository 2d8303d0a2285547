/**
 * Platform admin plan management (`Authorization: Bearer <PULSE_ADMIN_TOKEN>`):
 * `GET /v1/admin/plans` (every plan, inactive included), `POST /v1/admin/plans`,
 * `PATCH /v1/admin/plans/{plan_id}` (rename, re-price, change quotas, deactivate).
 *
 * Plans are not versioned: a change applies to every org on the plan from now on, including the
 * current period's bill. Deactivating a plan stops new switches to it; orgs already on it stay.
 * Audit entries have no org (plans belong to the platform) and the actor `system` / `platform_admin`.
 */
import { createRoute } from "@hono/zod-openapi";
import { asc, eq, exists } from "drizzle-orm";
import type { Context } from "hono";
import { auditActor, auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import { isUniqueViolation } from "../db/client";
import { plans } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { conflict, notFound } from "../lib/errors";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { parsePlan, serializePlan } from "./plans";
import { CreatePlanBody, PlanSchema, UpdatePlanBody } from "./schemas";
import { PlanParams } from "../lib/params";

export const adminPlanRoutes = createRouter();

const tags = ["Admin"];
const adminErrors = { 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] };

/** The platform admin token names no person: recorded as the system acting for the admin. */
function adminActor(c: Context<AppEnv>): AuditActor {
  return { ...auditActor(c), actorType: "system", actorId: "platform_admin" };
}

adminPlanRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/plans",
    tags,
    summary: "Every plan, active or not (platform admin)",
    security: bearerSecurity,
    responses: { 200: jsonContent(listOf(PlanSchema), "Plans; one page, next_cursor is always null"), 401: errorResponses[401] },
  }),
  async (c) => {
    const rows = await c.var.db.select().from(plans).orderBy(asc(plans.monthlyPriceCents), asc(plans.id)).all();
    return c.json({ data: rows.map((r) => serializePlan(parsePlan(r))), next_cursor: null }, 200);
  },
);

adminPlanRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/plans",
    tags,
    summary: "Create a plan (platform admin)",
    security: bearerSecurity,
    request: { body: jsonBody(CreatePlanBody) },
    responses: { 201: jsonContent(PlanSchema, "Created"), ...adminErrors, ...conflictResponse("A plan with this id exists") },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.var.db;
    const at = nowMs();
    const row = {
      id: body.id,
      name: body.name,
      monthlyPriceCents: body.monthly_price_cents,
      currency: body.currency,
      included: JSON.stringify(body.included),
      overageRates: JSON.stringify(body.overage_rates_micros),
      hardCap: body.hard_cap,
      active: body.active,
      createdAt: at,
    };
    try {
      await db.batch([
        db.insert(plans).values(row),
        auditEntry(db, adminActor(c), { action: "plan.created", resourceType: "plan", resourceId: row.id, metadata: { ...body } }, at),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A plan '${body.id}' already exists.`);
      throw error;
    }
    return c.json(serializePlan(parsePlan(row)), 201);
  },
);

adminPlanRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/admin/plans/{plan_id}",
    tags,
    summary: "Change a plan: name, price, quotas, rates, hard cap, or deactivate it (platform admin)",
    security: bearerSecurity,
    request: { params: PlanParams, body: jsonBody(UpdatePlanBody) },
    responses: { 200: jsonContent(PlanSchema, "Updated"), ...adminErrors, ...conflictResponse("The free plan cannot be deactivated") },
  }),
  async (c) => {
    const { plan_id } = c.req.valid("param");
    const body = c.req.valid("json");
    // New organizations start on `free` (organizations.plan_id's default): it must stay available.
    if (plan_id === "free" && body.active === false) throw conflict("The free plan is where new organizations start; it cannot be deactivated.");
    const db = c.var.db;
    const at = nowMs();
    const changes: Partial<typeof plans.$inferInsert> = {};
    if (body.name !== undefined) changes.name = body.name;
    if (body.monthly_price_cents !== undefined) changes.monthlyPriceCents = body.monthly_price_cents;
    if (body.included !== undefined) changes.included = JSON.stringify(body.included);
    if (body.overage_rates_micros !== undefined) changes.overageRates = JSON.stringify(body.overage_rates_micros);
    if (body.hard_cap !== undefined) changes.hardCap = body.hard_cap;
    if (body.active !== undefined) changes.active = body.active;
    const [, updated] = await db.batch([
      // Written only if the plan exists, in the same transaction as the change.
      auditEntryWhen(
        db,
        adminActor(c),
        { action: "plan.updated", resourceType: "plan", resourceId: plan_id, metadata: { ...body } },
        exists(db.select({ id: plans.id }).from(plans).where(eq(plans.id, plan_id))),
        at,
      ),
      db.update(plans).set(changes).where(eq(plans.id, plan_id)).returning(),
    ]);
    const row = updated[0];
    if (!row) throw notFound("Plan");
    return c.json(serializePlan(parsePlan(row)), 200);
  },
);
