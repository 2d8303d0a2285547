/**
 * `/v1/ingress`: bringing RTMP, WHIP or URL streams into a tenant's rooms through the shared
 * LiveKit deployment. Thin handlers over `service.ts` (which the LiveKit-compatible API shares).
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { currentApiKey, requireApiKey } from "../api-keys/auth";
import { enforceQuota } from "../billing/quota";
import { auditActor } from "../audit/record";
import type { AppEnv } from "../env";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { CreateIngressBody, IngressListQuery, IngressParams, IngressSchema, serializeIngress, UpdateIngressBody } from "./schemas";
import { createIngress, deleteIngress, getIngress, ingressStreamKey, listIngresses, updateIngress, type IngressCaller, type IngressDeps, type IngressRow } from "./service";

export const ingressRoutes = createRouter();
// Hono's "/v1/ingress/*" also matches "/v1/ingress" itself: one registration, so a request is
// authenticated and rate-limited once.
ingressRoutes.use("/v1/ingress/*", requireApiKey("ingress:write"));
ingressRoutes.on("POST", "/v1/ingress", enforceQuota("ingress_minutes"));

const tags = ["Ingress"];
const upstreamResponse = { 502: { description: "LiveKit failed, timed out or answered nonsense; nothing was recorded" } } as const;

function ingressDeps(c: Context<AppEnv>): IngressDeps {
  return { db: c.var.db, config: c.var.config, logger: c.var.logger, waitUntil: (p) => c.executionCtx.waitUntil(p) };
}

function ingressCaller(c: Context<AppEnv>): IngressCaller {
  const key = currentApiKey(c);
  return { projectId: key.projectId, orgId: key.orgId, audit: auditActor(c) };
}

async function present(c: Context<AppEnv>, row: IngressRow) {
  return serializeIngress(row, await ingressStreamKey(c.var.config, row));
}

ingressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/ingress",
    tags,
    summary: "Create an RTMP, WHIP or URL ingress into one of your rooms",
    security: bearerSecurity,
    request: { body: jsonBody(CreateIngressBody) },
    responses: { 201: jsonContent(IngressSchema, "Created, with the URL and stream key to publish to"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const { row, streamKey } = await createIngress(ingressDeps(c), ingressCaller(c), c.req.valid("json"));
    return c.json(serializeIngress(row, streamKey), 201);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/ingress",
    tags,
    summary: "List this project's ingresses, newest first (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { query: ListQuery.extend(IngressListQuery.shape) },
    responses: { 200: jsonContent(listOf(IngressSchema), "Ingresses"), ...errorResponses },
  }),
  async (c) => {
    const result = await listIngresses(c.var.db, currentApiKey(c).projectId, c.req.valid("query"));
    return c.json({ data: await Promise.all(result.rows.map((r) => present(c, r))), next_cursor: result.nextCursor }, 200);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Read an ingress, with its stream key (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { params: IngressParams },
    responses: { 200: jsonContent(IngressSchema, "The ingress"), ...errorResponses },
  }),
  async (c) => {
    const row = await getIngress(c.var.db, currentApiKey(c).projectId, { id: c.req.valid("param").ing_id });
    return c.json(await present(c, row), 200);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Change an ingress's name, room, participant or enabled state (LiveKit's UpdateIngress)",
    security: bearerSecurity,
    request: { params: IngressParams, body: jsonBody(UpdateIngressBody) },
    responses: { 200: jsonContent(IngressSchema, "Updated"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const caller = ingressCaller(c);
    const row = await getIngress(c.var.db, caller.projectId, { id: c.req.valid("param").ing_id });
    const updated = await updateIngress(ingressDeps(c), caller, row, c.req.valid("json"));
    return c.json(await present(c, updated.row), 200);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Delete an ingress in LiveKit; it stops accepting streams",
    security: bearerSecurity,
    request: { params: IngressParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const caller = ingressCaller(c);
    const row = await getIngress(c.var.db, caller.projectId, { id: c.req.valid("param").ing_id });
    await deleteIngress(ingressDeps(c), caller, row);
    return c.body(null, 204);
  },
);
