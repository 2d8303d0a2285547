/**
 * `/v1/ingress`: RTMP, WHIP or URL inputs into a tenant's rooms (API key with `ingress:write`), and
 * `/v1/projects/{project_id}/ingress…` reads for signed-in members (viewer and up). The operations
 * and their rules are in `service.ts`.
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, projectAccess } from "../auth/caller";
import { can } from "../authz/permissions";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf, quotaResponse, upstreamResponse } from "../lib/openapi";
import { createRouter } from "../router";
import { IngressParams, ProjectParams } from "../lib/params";
import { CreateIngressBody, IngressListQuery, IngressSchema, serializeIngress, UpdateIngressBody } from "./schemas";
import { createIngress, deleteIngress, getIngress, listIngresses, updateIngress } from "./service";

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
    method: "patch",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Change an ingress's name, room, participant or enabled state (LiveKit's UpdateIngress)",
    security: bearerSecurity,
    request: { params: IngressParams, body: jsonBody(UpdateIngressBody) },
    responses: { 200: jsonContent(IngressSchema, "Updated"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const { row, streamKey } = await updateIngress(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("param").ing_id, c.req.valid("json"));
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

// The dashboard's reads: the same service, for a member of the project.
const memberTags = ["Ingress (dashboard)"];

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/ingress",
    tags: memberTags,
    summary: "List a project's ingresses, newest first (viewer; stream keys for admins, null below)",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery.extend(IngressListQuery.shape) },
    responses: { 200: jsonContent(listOf(IngressSchema), "Ingresses"), ...errorResponses },
  }),
  async (c) => {
    const access = await projectAccess(c, c.req.valid("param").project_id, "ingress:read");
    const result = await listIngresses(depsOf(c), access.projectId, c.req.valid("query"));
    const keys = can(access.role, "ingress:stream_key");
    return c.json({ data: result.rows.map((r) => serializeIngress(r.row, keys ? r.streamKey : null)), next_cursor: result.nextCursor }, 200);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/ingress/{ing_id}",
    tags: memberTags,
    summary: "Read one of a project's ingresses (viewer; the stream key for admins, null below)",
    security: bearerSecurity,
    request: { params: ProjectParams.extend(IngressParams.shape) },
    responses: { 200: jsonContent(IngressSchema, "The ingress"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, ing_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "ingress:read");
    const { row, streamKey } = await getIngress(depsOf(c), access.projectId, ing_id);
    return c.json(serializeIngress(row, can(access.role, "ingress:stream_key") ? streamKey : null), 200);
  },
);
