/**
 * `/v1/ingress`: RTMP, WHIP or URL inputs into a tenant's rooms (API key with `ingress:write`).
 * The operations and their rules are in `service.ts`.
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf, quotaResponse, upstreamResponse } from "../lib/openapi";
import { createRouter } from "../router";
import { IngressParams } from "../lib/params";
import { CreateIngressBody, IngressListQuery, IngressSchema, serializeIngress } from "./schemas";
import { createIngress, deleteIngress, getIngress, listIngresses } from "./service";

export const ingressRoutes = createRouter();

const tags = ["Ingress"];

ingressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/ingress",
    tags,
    summary: "Create an RTMP, WHIP or URL ingress into one of your rooms",
    security: bearerSecurity,
    request: { body: jsonBody(CreateIngressBody) },
    responses: { 201: jsonContent(IngressSchema, "Created, with the URL and stream key to publish to"), ...quotaResponse, ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const { row, streamKey } = await createIngress(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("json"));
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
    const result = await listIngresses(depsOf(c), currentApiKey(c).projectId, c.req.valid("query"));
    return c.json({ data: result.rows.map((r) => serializeIngress(r.row, r.streamKey)), next_cursor: result.nextCursor }, 200);
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
    const { row, streamKey } = await getIngress(depsOf(c), currentApiKey(c).projectId, c.req.valid("param").ing_id);
    return c.json(serializeIngress(row, streamKey), 200);
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
    await deleteIngress(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("param").ing_id);
    return c.body(null, 204);
  },
);
