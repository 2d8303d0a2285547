/**
 * `/v1/egress`: recording and streaming a tenant's rooms through the shared LiveKit deployment.
 * Thin handlers over `service.ts` (which the LiveKit-compatible API shares).
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { currentApiKey, requireApiKey } from "../api-keys/auth";
import { enforceQuota } from "../billing/quota";
import { auditActor } from "../audit/record";
import type { AppEnv } from "../env";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { EgressListQuery, EgressParams, EgressSchema, serializeEgress, StartEgressBody, UpdateLayoutBody, UpdateStreamsBody } from "./schemas";
import { getEgress, listEgresses, startEgress, stopEgress, updateEgressLayout, updateEgressStreams, type EgressCaller, type EgressDeps } from "./service";

export const egressRoutes = createRouter();
// Hono's "/v1/egress/*" also matches "/v1/egress" itself: one registration, so a request is
// authenticated and rate-limited once.
egressRoutes.use("/v1/egress/*", requireApiKey("egress:write"));
egressRoutes.on("POST", "/v1/egress", enforceQuota("egress_minutes"));

const tags = ["Egress"];
const upstreamResponse = { 502: { description: "LiveKit failed, timed out or answered nonsense; nothing was recorded" } } as const;

function egressDeps(c: Context<AppEnv>): EgressDeps {
  return { db: c.var.db, config: c.var.config, logger: c.var.logger, waitUntil: (p) => c.executionCtx.waitUntil(p) };
}

function egressCaller(c: Context<AppEnv>): EgressCaller {
  const key = currentApiKey(c);
  return { projectId: key.projectId, orgId: key.orgId, audit: auditActor(c) };
}

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress",
    tags,
    summary: "Start a room-composite, web, track, participant or track-composite egress",
    security: bearerSecurity,
    request: { body: jsonBody(StartEgressBody) },
    responses: { 201: jsonContent(EgressSchema, "Started"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const { row } = await startEgress(egressDeps(c), egressCaller(c), c.req.valid("json"));
    return c.json(serializeEgress(row), 201);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/egress",
    tags,
    summary: "List this project's egresses, newest first (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { query: ListQuery.extend(EgressListQuery.shape) },
    responses: { 200: jsonContent(listOf(EgressSchema), "Egresses"), ...errorResponses },
  }),
  async (c) => {
    const result = await listEgresses(c.var.db, currentApiKey(c).projectId, c.req.valid("query"));
    return c.json({ data: result.rows.map(serializeEgress), next_cursor: result.nextCursor }, 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/egress/{eg_id}",
    tags,
    summary: "Read an egress (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { params: EgressParams },
    responses: { 200: jsonContent(EgressSchema, "The egress"), ...errorResponses },
  }),
  async (c) => {
    const row = await getEgress(c.var.db, currentApiKey(c).projectId, { id: c.req.valid("param").eg_id });
    return c.json(serializeEgress(row), 200);
  },
);

const endedResponse = { 409: { description: "The egress has already ended" } } as const;

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/stop",
    tags,
    summary: "Stop an egress; the record shows LiveKit's answer (usually EGRESS_ENDING, then the webhook completes it)",
    security: bearerSecurity,
    request: { params: EgressParams },
    responses: { 200: jsonContent(EgressSchema, "Stopping"), ...errorResponses, ...endedResponse, ...upstreamResponse },
  }),
  async (c) => {
    const caller = egressCaller(c);
    const row = await getEgress(c.var.db, caller.projectId, { id: c.req.valid("param").eg_id });
    const stopped = await stopEgress(egressDeps(c), caller, row);
    return c.json(serializeEgress(stopped.row), 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/layout",
    tags,
    summary: "Change the layout of a running room-composite or web egress",
    security: bearerSecurity,
    request: { params: EgressParams, body: jsonBody(UpdateLayoutBody) },
    responses: { 200: jsonContent(EgressSchema, "Updated"), ...errorResponses, ...endedResponse, ...upstreamResponse },
  }),
  async (c) => {
    const caller = egressCaller(c);
    const row = await getEgress(c.var.db, caller.projectId, { id: c.req.valid("param").eg_id });
    const updated = await updateEgressLayout(egressDeps(c), caller, row, c.req.valid("json").layout);
    return c.json(serializeEgress(updated.row), 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/streams",
    tags,
    summary: "Add or remove RTMP/SRT destinations of a running egress",
    security: bearerSecurity,
    request: { params: EgressParams, body: jsonBody(UpdateStreamsBody) },
    responses: { 200: jsonContent(EgressSchema, "Updated"), ...errorResponses, ...endedResponse, ...upstreamResponse },
  }),
  async (c) => {
    const caller = egressCaller(c);
    const body = c.req.valid("json");
    const row = await getEgress(c.var.db, caller.projectId, { id: c.req.valid("param").eg_id });
    const updated = await updateEgressStreams(egressDeps(c), caller, row, { add: body.add_output_urls ?? [], remove: body.remove_output_urls ?? [] });
    return c.json(serializeEgress(updated.row), 200);
  },
);
