/**
 * Resolving an API key's hash to its key, project and scopes, with a short per-isolate cache so the
 * hot path (token minting) does not query D1 on every request.
 *
 * Why this is safe: a cached entry is never trusted alone. Every API-key request also calls its
 * project's rate-limiter object, which knows every revocation of the last hour (revokeCredentials /
 * retire, called by the revoke, roll and delete routes BEFORE they write D1). A revoked, rolled or
 * deleted key is therefore refused at once by every isolate. If that object cannot be reached, the
 * caller re-reads D1 instead of trusting the cache (see auth.ts).
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { apiKeys, organizations, projects } from "../db/schema";
import { timingSafeEqual } from "../lib/secrets";
import { TtlCache } from "../lib/ttl-cache";

export interface ResolvedKey {
  id: string;
  keyHash: string;
  projectId: string;
  orgId: string;
  scopes: string[];
  expiresAt: number | null;
  lastUsedAt: number | null;
  rateLimitPerMin: number | null;
}

/** Well under REVOCATION_MEMORY_MS; also bounds how stale a project's rate-limit override can be. */
export const KEY_CACHE_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

const cache = new TtlCache<ResolvedKey>(KEY_CACHE_TTL_MS, MAX_ENTRIES);

/** One indexed lookup by hash; the key must be live and its project and org not deleted. */
export async function lookupKey(db: Database, hash: string): Promise<ResolvedKey | null> {
  const row = await db
    .select({
      id: apiKeys.id,
      keyHash: apiKeys.keyHash,
      projectId: apiKeys.projectId,
      orgId: apiKeys.orgId,
      scopes: apiKeys.scopes,
      expiresAt: apiKeys.expiresAt,
      lastUsedAt: apiKeys.lastUsedAt,
      rateLimitPerMin: projects.rateLimitPerMin,
    })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt), isNull(projects.deletedAt), isNull(organizations.deletedAt)))
    .get();
  if (!row || !timingSafeEqual(row.keyHash, hash)) return null;
  return { ...row, scopes: JSON.parse(row.scopes) as string[] };
}

export function cachedKey(hash: string): ResolvedKey | null {
  return cache.get(hash);
}

export function cacheKey(key: ResolvedKey): void {
  cache.set(key.keyHash, key);
}

export function forgetKey(hash: string): void {
  cache.delete(hash);
}
