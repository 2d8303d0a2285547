/**
 * `/v1/egress`: recording and streaming a tenant's rooms (API key with `egress:write`), and
 * `/v1/projects/{project_id}/egress…` for signed-in members (viewers read, admins stop). The
 * operations and their rules are in `service.ts`.
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, ListQuery, listOf, quotaResponse, upstreamResponse } from "../lib/openapi";
import { createRouter } from "../router";
import { EgressParams, ProjectParams } from "../lib/params";
import { EgressListQuery, EgressSchema, serializeEgress, StartEgressBody, UpdateLayoutBody, UpdateStreamsBody } from "./schemas";
import { findEgress, listEgresses, startEgress, stopEgress, updateEgressLayout, updateEgressStreams } from "./service";

export const egressRoutes = createRouter();

const tags = ["Egress"];

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress",
    tags,
    summary: "Start a room-composite, web, track, participant or track-composite egress",
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

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/layout",
    tags,
    summary: "Change the layout of a running room-composite or web egress",
    security: bearerSecurity,
    request: { params: EgressParams, body: jsonBody(UpdateLayoutBody) },
    responses: { 200: jsonContent(EgressSchema, "Updated"), ...errorResponses, ...conflictResponse("The egress has ended or has no layout"), ...upstreamResponse },
  }),
  async (c) => {
    const row = await updateEgressLayout(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("param").eg_id, c.req.valid("json").layout);
    return c.json(serializeEgress(row), 200);
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
    responses: { 200: jsonContent(EgressSchema, "Updated"), ...errorResponses, ...conflictResponse("The egress has already ended"), ...upstreamResponse },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await updateEgressStreams(depsOf(c), auditActor(c), currentApiKey(c), c.req.valid("param").eg_id, {
      add: body.add_output_urls ?? [],
      remove: body.remove_output_urls ?? [],
    });
    return c.json(serializeEgress(row), 200);
  },
);

// The dashboard's reads and stop button: the same services, for a member of the project.
const memberTags = ["Egress (dashboard)"];
const ProjectEgressParams = ProjectParams.extend(EgressParams.shape);

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/egress",
    tags: memberTags,
    summary: "List a project's egresses, newest first (viewer)",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery.extend(EgressListQuery.shape) },
    responses: { 200: jsonContent(listOf(EgressSchema), "Egresses"), ...errorResponses },
  }),
  async (c) => {
    const { projectId } = await projectAccess(c, c.req.valid("param").project_id, "egress:read");
    const result = await listEgresses(depsOf(c), projectId, c.req.valid("query"));
    return c.json({ data: result.rows.map(serializeEgress), next_cursor: result.nextCursor }, 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/egress/{eg_id}",
    tags: memberTags,
    summary: "Read one of a project's egresses (viewer)",
    security: bearerSecurity,
    request: { params: ProjectEgressParams },
    responses: { 200: jsonContent(EgressSchema, "The egress"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, eg_id } = c.req.valid("param");
    const { projectId } = await projectAccess(c, project_id, "egress:read");
    return c.json(serializeEgress(await findEgress(depsOf(c), projectId, eg_id)), 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/egress/{eg_id}/stop",
    tags: memberTags,
    summary: "Stop one of a project's egresses (admin)",
    security: bearerSecurity,
    request: { params: ProjectEgressParams },
    responses: { 200: jsonContent(EgressSchema, "Stopping"), ...errorResponses, ...conflictResponse("The egress has already ended"), ...upstreamResponse },
  }),
  async (c) => {
    const { project_id, eg_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "egress:stop");
    return c.json(serializeEgress(await stopEgress(depsOf(c), auditActor(c), access, eg_id)), 200);
  },
);
