/**
 * Project API keys: create (secret returned once), list (never the secret), revoke and roll.
 * Callers resolve the user's access to the project first (`authz/access.ts`).
 */
import { and, eq, sql } from "drizzle-orm";
import { auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import { API_KEY_SCOPES, type ApiKeyScope } from "../authz/permissions";
import type { Database } from "../db/client";
import { apiKeys } from "../db/schema";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { announceRevokedKeys, type LimiterDeps } from "./revocation";
import { newApiKeySecret } from "./secret";

export type ApiKey = typeof apiKeys.$inferSelect;

/** The project a key operation is in, and who does it. */
export interface KeyActor {
  userId: string;
  audit: AuditActor;
}

export interface CreateKeyInput {
  name: string;
  scopes?: ApiKeyScope[];
  expires_at?: string;
}

export async function createApiKey(db: Database, actor: KeyActor, project: { id: string; orgId: string }, input: CreateKeyInput) {
  const at = nowMs();
  const expiresAt = input.expires_at ? Date.parse(input.expires_at) : null;
  if (expiresAt !== null && expiresAt <= at) {
    throw validationFailed("expires_at must be in the future.", [{ path: "expires_at", message: "Must be in the future" }]);
  }
  const scopes = input.scopes ?? [...API_KEY_SCOPES];
  const { secret, prefix, hash } = await newApiKeySecret();
  const key: ApiKey = {
    id: newId("apiKey"),
    projectId: project.id,
    orgId: project.orgId,
    name: input.name,
    prefix,
    keyHash: hash,
    scopes: JSON.stringify(scopes),
    createdBy: actor.userId,
    createdAt: at,
    expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  };
  await db.batch([
    db.insert(apiKeys).values(key),
    auditEntry(
      db,
      actor.audit,
      {
        action: "api_key.created",
        resourceType: "api_key",
        resourceId: key.id,
        orgId: project.orgId,
        projectId: project.id,
        metadata: { name: input.name, prefix, scopes, expires_at: input.expires_at ?? null },
      },
      at,
    ),
  ]);
  return { key, secret };
}

export async function listApiKeys(db: Database, projectId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), afterCursor(opts.cursor, apiKeys.createdAt, apiKeys.id)))
    .orderBy(...newestFirst(apiKeys.createdAt, apiKeys.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** The key still has the secret we read and is not revoked (the guard of revoke and roll). */
function unchangedKey(keyId: string, keyHash: string) {
  return sql`EXISTS (SELECT 1 FROM api_keys WHERE id = ${keyId} AND key_hash = ${keyHash} AND revoked_at IS NULL)`;
}

async function loadKey(db: Database, projectId: string, keyId: string): Promise<ApiKey> {
  const key = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId)))
    .get();
  if (!key) throw notFound("API key");
  return key;
}

/** Revokes a key at once; revoking a revoked key is a no-op. */
export async function revokeApiKey(deps: LimiterDeps & { db: Database }, audit: AuditActor, project: { id: string; orgId: string }, keyId: string) {
  const { db } = deps;
  // A roll may replace the secret between our read and our write; then the new secret is the one
  // to announce. The write is guarded on the hash we announced, so we retry with the new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const key = await loadKey(db, project.id, keyId);
    if (key.revokedAt !== null) return;
    await announceRevokedKeys(deps, project.id, [key.keyHash]);
    const at = nowMs();
    const guard = unchangedKey(keyId, key.keyHash);
    const [, revoked] = await db.batch([
      auditEntryWhen(
        db,
        audit,
        { action: "api_key.revoked", resourceType: "api_key", resourceId: keyId, orgId: project.orgId, projectId: project.id, metadata: { prefix: key.prefix } },
        guard,
        at,
      ),
      db.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.id, keyId), guard)).returning({ id: apiKeys.id }),
    ]);
    if (revoked.length > 0) return;
  }
  throw conflict("The key kept changing while being revoked; try again.");
}

/** Replaces a key's secret; the old one dies at once. Returns the key and its new secret (shown once). */
export async function rollApiKey(deps: LimiterDeps & { db: Database }, audit: AuditActor, project: { id: string; orgId: string }, keyId: string) {
  const { db } = deps;
  const key = await loadKey(db, project.id, keyId);
  const at = nowMs();
  if (key.revokedAt !== null) throw conflict("A revoked key cannot be rolled; create a new key.");
  if (key.expiresAt !== null && key.expiresAt <= at) throw conflict("An expired key cannot be rolled; create a new key.");
  const { secret, prefix, hash } = await newApiKeySecret();
  await announceRevokedKeys(deps, project.id, [key.keyHash]);
  // Guarded on the secret we read: a concurrent revoke or roll wins, and this one changes nothing.
  const guard = unchangedKey(keyId, key.keyHash);
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      audit,
      {
        action: "api_key.rolled",
        resourceType: "api_key",
        resourceId: keyId,
        orgId: project.orgId,
        projectId: project.id,
        metadata: { old_prefix: key.prefix, new_prefix: prefix },
      },
      guard,
      at,
    ),
    db.update(apiKeys).set({ keyHash: hash, prefix, lastUsedAt: null }).where(and(eq(apiKeys.id, keyId), guard)).returning(),
  ]);
  const rolled = updated[0];
  if (!rolled) throw conflict("The key was revoked or rolled at the same time; reload it and try again.");
  return { key: rolled, secret };
}
