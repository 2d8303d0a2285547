/**
 * `/v1/projects/{project_id}/keys` (session routes: admins create, revoke and roll, members list)
 * and `GET /v1/api-key`, where a tenant's server asks which key it is using.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { currentApiKey, currentUser, projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { KeyParams, ProjectParams } from "../lib/params";
import { createRouter } from "../router";
import { ApiKeySchema, ApiKeyWithSecretSchema, CreateApiKeyBody, serializeApiKey } from "./schemas";
import { createApiKey, findApiKey, listApiKeys, revokeApiKey, rollApiKey } from "./service";

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
    responses: { 201: jsonContent(ApiKeyWithSecretSchema, "Created"), ...errorResponses, ...conflictResponse("The project has LIMIT_KEYS_PER_PROJECT active keys already") },
  }),
  async (c) => {
    const access = await projectAccess(c, c.req.valid("param").project_id, "key:write");
    const caller = { userId: currentUser(c).userId, audit: auditActor(c) };
    const { key, secret } = await createApiKey(depsOf(c), caller, access, c.req.valid("json"));
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
    const { projectId } = await projectAccess(c, c.req.valid("param").project_id, "key:read");
    const result = await listApiKeys(depsOf(c), projectId, c.req.valid("query"));
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
    responses: { 204: { description: "Revoked" }, ...errorResponses, ...conflictResponse("The key kept changing (rolled) while being revoked") },
  }),
  async (c) => {
    const { project_id, key_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "key:write");
    await revokeApiKey(depsOf(c), auditActor(c), access, key_id);
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
    responses: { 201: jsonContent(ApiKeyWithSecretSchema, "Rolled"), ...errorResponses, ...conflictResponse("The key is revoked or expired, or changed at the same time") },
  }),
  async (c) => {
    const { project_id, key_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "key:write");
    const { key, secret } = await rollApiKey(depsOf(c), auditActor(c), access, key_id);
    return c.json({ ...serializeApiKey(key), secret }, 201);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/api-key",
    tags,
    summary: "Describe the API key making the request (never its secret)",
    security: bearerSecurity,
    responses: { 200: jsonContent(ApiKeySchema.extend({ org_id: z.string() }), "The key"), ...errorResponses },
  }),
  async (c) => {
    const caller = currentApiKey(c);
    const key = await findApiKey(depsOf(c), caller.projectId, caller.keyId);
    return c.json({ ...serializeApiKey(key), org_id: key.orgId }, 200);
  },
);
