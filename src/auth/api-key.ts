/**
 * Authenticating servers by project API key: one indexed lookup by the secret's SHA-256 (cached
 * briefly per isolate, see key-cache.ts), a constant-time comparison, and 401 for unknown, revoked
 * or expired keys (or keys of a deleted project or org). Sets `c.var.caller` to the key with its
 * project and scopes, then applies the project's rate limit.
 */
import { eq } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { ApiKeyScope } from "../authz/permissions";
import { apiKeys } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { ApiError, unauthenticated } from "../lib/errors";
import { sha256Hex } from "../lib/secrets";
import { enforceRateLimit } from "../middleware/rate-limit";
import { cachedKey, cacheKey, forgetKey, lookupKey } from "./key-cache";
import { bearerToken, looksLikeApiKey } from "./credentials";

const KEY_REFUSED = "The API key is invalid, revoked or expired.";

/** Don't write `last_used_at` more than once a minute per key: it is informational, not an audit. */
const LAST_USED_GRANULARITY_MS = 60_000;

function presentedKey(c: Context<AppEnv>): string | null {
  const bearer = bearerToken(c.req.header("Authorization"));
  if (bearer && looksLikeApiKey(bearer)) return bearer;
  const header = c.req.header("X-API-Key")?.trim();
  return header && looksLikeApiKey(header) ? header : null;
}

export function requireApiKey(scope?: ApiKeyScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const secret = presentedKey(c);
    if (!secret) throw unauthenticated("Send a project API key: Authorization: Bearer pulse_…");
    const hash = await sha256Hex(secret);
    const db = c.var.db;
    const cached = cachedKey(hash);
    let key = cached ?? (await lookupKey(db, hash));
    const now = nowMs();
    if (!key || (key.expiresAt !== null && key.expiresAt <= now)) throw unauthenticated(KEY_REFUSED);
    if (!cached) cacheKey(key);

    c.set("caller", { kind: "api_key", keyId: key.id, projectId: key.projectId, orgId: key.orgId, scopes: key.scopes });
    c.set("orgId", key.orgId);
    c.set("projectId", key.projectId);

    // The limiter also refuses credentials revoked since this isolate cached the key (401).
    const limiter = await enforceRateLimit(c, {
      policy: "project",
      key: `project:${key.projectId}`,
      limit: key.rateLimitPerMin ?? c.var.config.rateLimits.projectPerMinute,
      failMode: "open",
      credential: hash,
    });
    if (limiter === "unavailable" && cached) {
      // Without the limiter nobody can vouch for the cached entry: ask D1.
      key = await lookupKey(db, hash);
      if (!key) {
        forgetKey(hash);
        throw unauthenticated(KEY_REFUSED);
      }
    }
    if (scope && !key.scopes.includes(scope)) throw new ApiError("forbidden", `This API key lacks the '${scope}' scope.`);

    if (key.lastUsedAt === null || now - key.lastUsedAt > LAST_USED_GRANULARITY_MS) {
      key.lastUsedAt = now;
      c.executionCtx.waitUntil(db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, key.id)).run().catch(() => undefined));
    }
    await next();
  };
}
