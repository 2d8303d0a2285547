import { createRoute } from "@hono/zod-openapi";
import { auditActor } from "../audit/record";
import { projectAccess } from "../authz/access";
import { depsOf } from "../deps";
import { currentUser } from "../identity/sessions";
import { KeyParams, ProjectParams } from "../lib/params";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { ApiKeySchema, ApiKeyWithSecretSchema, CreateApiKeyBody, serializeApiKey } from "./schemas";
import { createApiKey, listApiKeys, revokeApiKey, rollApiKey } from "./service";

// Session auth for /v1/projects/* is applied by the projects router, mounted first.
export const apiKeyRoutes = createRouter();

const tags = ["API keys"];

apiKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/keys",
    tags,
    summary: "Create an API key (admin); the secret is shown only in this response",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(CreateApiKeyBody) },
    responses: { 201: jsonContent(ApiKeyWithSecretSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { userId } = currentUser(c);
    const { project_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const access = await projectAccess(c, project_id, "key:write");
    const { key, secret } = await createApiKey(c.var.db, { userId, audit: auditActor(c) }, { id: project_id, orgId: access.orgId }, body);
    return c.json({ ...serializeApiKey(key), secret }, 201);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/keys",
    tags,
    summary: "List a project's API keys (member); never includes secrets",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(ApiKeySchema), "Keys"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await projectAccess(c, project_id, "key:read");
    const result = await listApiKeys(c.var.db, project_id, { limit, cursor });
    return c.json({ data: result.rows.map(serializeApiKey), next_cursor: result.nextCursor }, 200);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/projects/{project_id}/keys/{key_id}",
    tags,
    summary: "Revoke an API key (admin); it stops working at once",
    security: bearerSecurity,
    request: { params: KeyParams },
    responses: { 204: { description: "Revoked" }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, key_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "key:write");
    await revokeApiKey(depsOf(c), auditActor(c), { id: project_id, orgId: access.orgId }, key_id);
    return c.body(null, 204);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/keys/{key_id}/roll",
    tags,
    summary: "Replace a key's secret (admin); the old secret dies at once",
    security: bearerSecurity,
    request: { params: KeyParams },
    responses: { 201: jsonContent(ApiKeyWithSecretSchema, "Rolled"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, key_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "key:write");
    const { key, secret } = await rollApiKey(depsOf(c), auditActor(c), { id: project_id, orgId: access.orgId }, key_id);
    return c.json({ ...serializeApiKey(key), secret }, 201);
  },
);
