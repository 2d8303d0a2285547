/**
 * `/v1/projects/{project_id}/livekit-keys`: a project's LiveKit-format credentials (admin creates
 * and deletes, member lists; the secret only in the create response).
 */
import { createRoute } from "@hono/zod-openapi";
import { auditActor } from "../audit/record";
import { currentUser, projectAccess } from "../auth/caller";
import { depsOf } from "../deps";
import { emptyBodyAsNoFields } from "../middleware/json-body";
import { bearerSecurity, errorResponses, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { ProjectParams } from "../lib/params";
import { createRouter } from "../router";
import { CreateLivekitKeyBody, LivekitKeyParams, LivekitKeySchema, LivekitKeyWithSecretSchema, serializeLivekitKey } from "./schemas";
import { createLivekitKey, deleteLivekitKey, listLivekitKeys } from "./service";

// Session auth for /v1/projects/* comes from the authentication table (auth/table.ts).
export const livekitKeyRoutes = createRouter();

const tags = ["LiveKit keys"];

livekitKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/livekit-keys",
    tags,
    summary: "Create a LiveKit key (admin) for LiveKit's server SDKs; the secret is shown only in this response",
    security: bearerSecurity,
    middleware: [emptyBodyAsNoFields] as const,
    request: {
      params: ProjectParams,
      body: { required: false, content: { "application/json": { schema: CreateLivekitKeyBody } } },
    },
    responses: { 201: jsonContent(LivekitKeyWithSecretSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const access = await projectAccess(c, project_id, "key:write");
    const { row, secret } = await createLivekitKey(
      c.var,
      { projectId: project_id, orgId: access.orgId },
      { userId: currentUser(c).userId, audit: auditActor(c) },
      body,
    );
    return c.json({ ...serializeLivekitKey(row), api_secret: secret }, 201);
  },
);

livekitKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/livekit-keys",
    tags,
    summary: "List a project's LiveKit keys (member); never includes secrets",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(LivekitKeySchema), "Keys"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await projectAccess(c, project_id, "key:read");
    const result = await listLivekitKeys(c.var.db, project_id, { limit, cursor });
    return c.json({ data: result.rows.map(serializeLivekitKey), next_cursor: result.nextCursor }, 200);
  },
);

livekitKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/projects/{project_id}/livekit-keys/{lkk_id}",
    tags,
    summary: "Delete a LiveKit key (admin); JWTs signed with it stop working at once",
    security: bearerSecurity,
    request: { params: LivekitKeyParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, lkk_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "key:write");
    await deleteLivekitKey(
      depsOf(c),
      { projectId: project_id, orgId: access.orgId },
      { audit: auditActor(c) },
      lkk_id,
    );
    return c.body(null, 204);
  },
);
