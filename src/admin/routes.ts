/**
 * Platform operators (`Authorization: Bearer <PULSE_ADMIN_TOKEN>`): `GET /metrics` and plan
 * management, `GET|POST /v1/admin/plans` and `PATCH /v1/admin/plans/{plan_id}` (rename, re-price,
 * change quotas, deactivate; see `billing/service.ts`), and a project's web egress origin
 * allow-list, `GET|PUT /v1/admin/projects/{project_id}/web-egress-origins` (`egress/web-egress.ts`),
 * and the LiveKit events the safety net gave up on, `GET /v1/admin/livekit-events/abandoned` and
 * `POST /v1/admin/livekit-events/abandoned/requeue` (`inbound/abandoned.ts`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { auditActor, type AuditActor } from "../audit/record";
import { serializePlan } from "../billing/plans";
import { CreatePlanBody, PlanSchema, UpdatePlanBody } from "../billing/schemas";
import { createPlan, listPlans, updatePlan } from "../billing/service";
import { depsOf } from "../deps";
import type { AppEnv } from "../env";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { PlanParams, ProjectParams } from "../lib/params";
import { WebEgressOriginsBody, WebEgressOriginsSchema } from "../egress/schemas";
import { setWebEgressOrigins, webEgressOrigins } from "../egress/web-egress";
import { listAbandonedEvents, requeueAbandonedEvents, serializeAbandonedEvent } from "../inbound/abandoned";
import { AbandonedEventSchema, RequeueAbandonedBody, RequeueAbandonedSchema } from "../inbound/schemas";
import { createRouter } from "../router";
import { renderMetrics } from "./service";

export const adminRoutes = createRouter();

const tags = ["Admin"];
const adminErrors = { 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] };

/** The platform admin token names no person: recorded as the system acting for the admin. */
function adminActor(c: Context<AppEnv>): AuditActor {
  return { ...auditActor(c), actorType: "system", actorId: "platform_admin" };
}

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    tags,
    summary: "Prometheus metrics (platform admin token)",
    security: bearerSecurity,
    responses: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } }, 401: errorResponses[401] },
  }),
  async (c) => {
    return c.text(await renderMetrics(depsOf(c)), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }) as never;
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/plans",
    tags,
    summary: "Every plan, active or not (platform admin)",
    security: bearerSecurity,
    responses: { 200: jsonContent(listOf(PlanSchema), "Plans; one page, next_cursor is always null"), 401: errorResponses[401] },
  }),
  async (c) => {
    const all = await listPlans(depsOf(c), { includeInactive: true });
    return c.json({ data: all.map(serializePlan), next_cursor: null }, 200);
  },
);

adminRoutes.openapi(
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
    return c.json(serializePlan(await createPlan(depsOf(c), adminActor(c), c.req.valid("json"))), 201);
  },
);

adminRoutes.openapi(
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
    const plan = await updatePlan(depsOf(c), adminActor(c), c.req.valid("param").plan_id, c.req.valid("json"));
    return c.json(serializePlan(plan), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/projects/{project_id}/web-egress-origins",
    tags,
    summary: "The origins a project's web egress may load (platform admin); null: any public origin",
    security: bearerSecurity,
    request: { params: ProjectParams },
    responses: { 200: jsonContent(WebEgressOriginsSchema, "The allow-list"), 401: errorResponses[401] },
  }),
  async (c) => {
    const projectId = c.req.valid("param").project_id;
    return c.json({ project_id: projectId, origins: await webEgressOrigins(depsOf(c), projectId) }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/projects/{project_id}/web-egress-origins",
    tags,
    summary: "Set or remove the origins a project's web egress may load (platform admin, audited)",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(WebEgressOriginsBody) },
    responses: { 200: jsonContent(WebEgressOriginsSchema, "Updated"), ...adminErrors },
  }),
  async (c) => {
    const projectId = c.req.valid("param").project_id;
    const origins = await setWebEgressOrigins(depsOf(c), adminActor(c), projectId, c.req.valid("json").origins);
    return c.json({ project_id: projectId, origins }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/livekit-events/abandoned",
    tags,
    summary: "LiveKit events the safety net gave up on, still unprocessed, newest first (platform admin)",
    security: bearerSecurity,
    request: { query: ListQuery },
    responses: { 200: jsonContent(listOf(AbandonedEventSchema), "Events given up on"), 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => {
    const result = await listAbandonedEvents(depsOf(c), c.req.valid("query"));
    return c.json({ data: result.rows.map(serializeAbandonedEvent), next_cursor: result.nextCursor }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/livekit-events/abandoned/requeue",
    tags,
    summary: "Put LiveKit events given up on back in line and on the inbound queue (platform admin, audited)",
    security: bearerSecurity,
    request: { body: jsonBody(RequeueAbandonedBody) },
    responses: { 202: jsonContent(RequeueAbandonedSchema, "Queued for processing again"), 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => {
    const result = await requeueAbandonedEvents(depsOf(c), c.env.INBOUND_QUEUE, adminActor(c), c.req.valid("json"));
    return c.json(result, 202);
  },
);
