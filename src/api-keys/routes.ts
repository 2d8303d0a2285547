import { createRoute } from "@hono/zod-openapi";
import { currentUser, projectAccess } from "../auth/caller";
import { and, eq, sql } from "drizzle-orm";
import { auditActor, auditEntry, auditEntryWhen } from "../audit/record";
import { API_KEY_SCOPES } from "../authz/permissions";
import { apiKeys } from "../db/schema";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { ApiKeySchema, ApiKeyWithSecretSchema, CreateApiKeyBody, serializeApiKey } from "./schemas";
import { announceRevokedKeys } from "./revocation";
import { newApiKeySecret } from "./secret";
import { KeyParams, ProjectParams } from "../lib/params";

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
    const db = c.var.db;
    const access = await projectAccess(c, project_id, "key:write");
    const at = nowMs();
    const expiresAt = body.expires_at ? Date.parse(body.expires_at) : null;
    if (expiresAt !== null && expiresAt <= at) {
      throw validationFailed("expires_at must be in the future.", [{ path: "expires_at", message: "Must be in the future" }]);
    }
    const scopes = body.scopes ?? [...API_KEY_SCOPES];
    const { secret, prefix, hash } = await newApiKeySecret();
    const key = {
      id: newId("apiKey"),
      projectId: project_id,
      orgId: access.orgId,
      name: body.name,
      prefix,
      keyHash: hash,
      scopes: JSON.stringify(scopes),
      createdBy: userId,
      createdAt: at,
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    };
    await db.batch([
      db.insert(apiKeys).values(key),
      auditEntry(
        db,
        auditActor(c),
        {
          action: "api_key.created",
          resourceType: "api_key",
          resourceId: key.id,
          orgId: access.orgId,
          projectId: project_id,
          metadata: { name: body.name, prefix, scopes, expires_at: body.expires_at ?? null },
        },
        at,
      ),
    ]);
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
    const access = await projectAccess(c, project_id, "key:read");
    const rows = await c.var.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.projectId, project_id), afterCursor(cursor, apiKeys.createdAt, apiKeys.id)))
      .orderBy(...newestFirst(apiKeys.createdAt, apiKeys.id))
      .limit(limit + 1)
      .all();
    const result = page(rows, limit);
    return c.json({ data: result.rows.map(serializeApiKey), next_cursor: result.nextCursor }, 200);
  },
);

/** The key still has the secret we read and is not revoked (the guard of revoke and roll). */
function unchangedKey(keyId: string, keyHash: string) {
  return sql`EXISTS (SELECT 1 FROM api_keys WHERE id = ${keyId} AND key_hash = ${keyHash} AND revoked_at IS NULL)`;
}

async function loadKey(c: Parameters<Parameters<typeof apiKeyRoutes.openapi>[1]>[0], projectId: string, keyId: string) {
  const key = await c.var.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId)))
    .get();
  if (!key) throw notFound("API key");
  return key;
}

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
    const db = c.var.db;
    const access = await projectAccess(c, project_id, "key:write");
    // A roll may replace the secret between our read and our write; then the new secret is the one
    // to announce. The write is guarded on the hash we announced, so we retry with the new one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = await loadKey(c, project_id, key_id);
      if (key.revokedAt !== null) return c.body(null, 204);
      await announceRevokedKeys(c, project_id, [key.keyHash]);
      const at = nowMs();
      const guard = unchangedKey(key_id, key.keyHash);
      const [, revoked] = await db.batch([
        auditEntryWhen(
          db,
          auditActor(c),
          { action: "api_key.revoked", resourceType: "api_key", resourceId: key_id, orgId: access.orgId, projectId: project_id, metadata: { prefix: key.prefix } },
          guard,
          at,
        ),
        db.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.id, key_id), guard)).returning({ id: apiKeys.id }),
      ]);
      if (revoked.length > 0) return c.body(null, 204);
    }
    throw conflict("The key kept changing while being revoked; try again.");
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
    const db = c.var.db;
    const access = await projectAccess(c, project_id, "key:write");
    const key = await loadKey(c, project_id, key_id);
    const at = nowMs();
    if (key.revokedAt !== null) throw conflict("A revoked key cannot be rolled; create a new key.");
    if (key.expiresAt !== null && key.expiresAt <= at) throw conflict("An expired key cannot be rolled; create a new key.");
    const { secret, prefix, hash } = await newApiKeySecret();
    await announceRevokedKeys(c, project_id, [key.keyHash]);
    // Guarded on the secret we read: a concurrent revoke or roll wins, and this one changes nothing.
    const guard = unchangedKey(key_id, key.keyHash);
    const [, updated] = await db.batch([
      auditEntryWhen(
        db,
        auditActor(c),
        {
          action: "api_key.rolled",
          resourceType: "api_key",
          resourceId: key_id,
          orgId: access.orgId,
          projectId: project_id,
          metadata: { old_prefix: key.prefix, new_prefix: prefix },
        },
        guard,
        at,
      ),
      db.update(apiKeys).set({ keyHash: hash, prefix, lastUsedAt: null }).where(and(eq(apiKeys.id, key_id), guard)).returning(),
    ]);
    const rolled = updated[0];
    if (!rolled) throw conflict("The key was revoked or rolled at the same time; reload it and try again.");
    return c.json({ ...serializeApiKey(rolled), secret }, 201);
  },
);
