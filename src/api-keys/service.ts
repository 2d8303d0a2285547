/**
 * Project API keys: create (the secret is returned once and stored only as SHA-256), list,
 * describe, revoke and roll. Revoking and rolling announce the dead secret to the project's
 * limiter object first (`revocation.ts`), then write D1 guarded on the secret they read, so a
 * revoke racing a roll can never leave a live secret behind.
 */
import { and, count, eq, gt, isNull, or, sql } from "drizzle-orm";
import { belowCap, capReached, insertWhen, rowWritten } from "../db/count-cap";
import { auditEntryWhen, type AuditActor, type UserActor } from "../audit/record";
import { tenantOf, type Tenant } from "../authz/access";
import { API_KEY_SCOPES, type ApiKeyScope } from "../authz/permissions";
import { apiKeys } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { announceRevokedKeys } from "./revocation";
import { newApiKeySecret } from "./secret";

type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface ApiKeyInput {
  name: string;
  /** Every scope when absent. */
  scopes?: ApiKeyScope[];
  /** RFC 3339; must be in the future. */
  expires_at?: string;
}

/** How often revoking retries when a concurrent roll keeps replacing the secret it announced. */
const REVOKE_ATTEMPTS = 3;

/** At most LIMIT_KEYS_PER_PROJECT active (neither revoked nor expired) keys, counted inside the INSERT. */
export async function createApiKey(deps: Pick<Deps, "db" | "config">, caller: UserActor, tenant: Tenant, input: ApiKeyInput) {
  const { db } = deps;
  const at = nowMs();
  const expiresAt = input.expires_at ? Date.parse(input.expires_at) : null;
  if (expiresAt !== null && expiresAt <= at) {
    throw validationFailed("expires_at must be in the future.", [{ path: "expires_at", message: "Must be in the future" }]);
  }
  const scopes = input.scopes ?? [...API_KEY_SCOPES];
  const { secret, prefix, hash } = await newApiKeySecret();
  const key: ApiKeyRow = {
    id: newId("apiKey"),
    projectId: tenant.projectId,
    orgId: tenant.orgId,
    name: input.name,
    prefix,
    keyHash: hash,
    scopes: JSON.stringify(scopes),
    createdBy: caller.userId,
    createdAt: at,
    expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  };
  const metadata = { name: input.name, prefix, scopes, expires_at: input.expires_at ?? null };
  const audit = { action: "api_key.created", resourceType: "api_key", resourceId: key.id, ...tenantOf(tenant), metadata };
  const cap = deps.config.limits.keysPerProject;
  const active = db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, tenant.projectId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, at))));
  const [inserted] = await db.batch([
    insertWhen(db, apiKeys, key, belowCap(active, cap)),
    auditEntryWhen(db, caller.audit, audit, rowWritten(apiKeys.id, key.id), at),
  ]);
  if (inserted.length === 0) throw capReached("active API keys in this project", cap, "LIMIT_KEYS_PER_PROJECT");
  return { key, secret };
}

export function listApiKeys(deps: Pick<Deps, "db">, projectId: string, request: PageRequest) {
  return newestFirstPage(request, apiKeys, (after, order, fetch) =>
    deps.db.select().from(apiKeys).where(and(eq(apiKeys.projectId, projectId), after)).orderBy(...order).limit(fetch).all(),
  );
}

/** The project's key by id (revoked ones included); another project's, or no key, is 404. */
export async function findApiKey(deps: Pick<Deps, "db">, projectId: string, keyId: string): Promise<ApiKeyRow> {
  const key = await deps.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId)))
    .get();
  if (!key) throw notFound("API key");
  return key;
}

/** The key still has the secret we read and is not revoked (the guard of revoke and roll). */
function unchangedKey(keyId: string, keyHash: string) {
  return sql`EXISTS (SELECT 1 FROM api_keys WHERE id = ${keyId} AND key_hash = ${keyHash} AND revoked_at IS NULL)`;
}

/** Revokes the key; it stops working at once everywhere. Revoking a revoked key changes nothing. */
export async function revokeApiKey(deps: Pick<Deps, "db" | "limiter" | "logger">, actor: AuditActor, tenant: Tenant, keyId: string): Promise<void> {
  const { db } = deps;
  // A roll may replace the secret between our read and our write; then the new secret is the one
  // to announce. The write is guarded on the hash we announced, so we retry with the new one.
  for (let attempt = 0; attempt < REVOKE_ATTEMPTS; attempt++) {
    const key = await findApiKey(deps, tenant.projectId, keyId);
    if (key.revokedAt !== null) return;
    await announceRevokedKeys(deps, tenant.projectId, [key.keyHash]);
    const at = nowMs();
    const guard = unchangedKey(keyId, key.keyHash);
    const [, revoked] = await db.batch([
      auditEntryWhen(
        db,
        actor,
        { action: "api_key.revoked", resourceType: "api_key", resourceId: keyId, ...tenantOf(tenant), metadata: { prefix: key.prefix } },
        guard,
        at,
      ),
      db.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.id, keyId), guard)).returning({ id: apiKeys.id }),
    ]);
    if (revoked.length > 0) return;
  }
  throw conflict("The key kept changing while being revoked; try again.");
}

/** Replaces the key's secret (returned once); the old secret dies at once everywhere. */
export async function rollApiKey(deps: Pick<Deps, "db" | "limiter" | "logger">, actor: AuditActor, tenant: Tenant, keyId: string) {
  const { db } = deps;
  const key = await findApiKey(deps, tenant.projectId, keyId);
  const at = nowMs();
  if (key.revokedAt !== null) throw conflict("A revoked key cannot be rolled; create a new key.");
  if (key.expiresAt !== null && key.expiresAt <= at) throw conflict("An expired key cannot be rolled; create a new key.");
  const { secret, prefix, hash } = await newApiKeySecret();
  await announceRevokedKeys(deps, tenant.projectId, [key.keyHash]);
  // Guarded on the secret we read: a concurrent revoke or roll wins, and this one changes nothing.
  const guard = unchangedKey(keyId, key.keyHash);
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      actor,
      {
        action: "api_key.rolled",
        resourceType: "api_key",
        resourceId: keyId,
        ...tenantOf(tenant),
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
