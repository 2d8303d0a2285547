/**
 * `/v1/egress`: recording and streaming a tenant's rooms (API key with `egress:write`). The
 * operations and their rules are in `service.ts`.
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, ListQuery, listOf, quotaResponse, upstreamResponse } from "../lib/openapi";
import { createRouter } from "../router";
import { EgressParams } from "../lib/params";
import { EgressListQuery, EgressSchema, serializeEgress, StartEgressBody } from "./schemas";
import { findEgress, listEgresses, startEgress, stopEgress } from "./service";

export const egressRoutes = createRouter();

const tags = ["Egress"];

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress",
    tags,
    summary: "Start a room-composite, track or web egress",
    security: bearerSecurity,
    request: { body: jsonBody(StartEgressBody) },
    responses: { 201: jsonContent(EgressSchema, "Started"), ...quotaResponse, ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const row = await startEgress(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("json"));
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
    const result = await listEgresses(depsOf(c), currentApiKey(c).projectId, c.req.valid("query"));
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
    const row = await findEgress(depsOf(c), currentApiKey(c).projectId, c.req.valid("param").eg_id);
    return c.json(serializeEgress(row), 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/stop",
    tags,
    summary: "Stop an egress; the record shows LiveKit's answer (usually EGRESS_ENDING, then the webhook completes it)",
    security: bearerSecurity,
    request: { params: EgressParams },
    responses: {
      200: jsonContent(EgressSchema, "Stopping"),
      ...errorResponses,
      ...conflictResponse("The egress has already ended"),
      ...upstreamResponse,
    },
  }),
  async (c) => {
    const row = await stopEgress(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("param").eg_id);
    return c.json(serializeEgress(row), 200);
  },
);
