/**
 * Authenticating servers by project API key: one indexed lookup by the secret's SHA-256, a
 * constant-time comparison, and 401 for unknown, revoked or expired keys (or keys of a deleted
 * project or org). Sets `c.var.caller` to the key with its project and scopes.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { ApiKeyScope } from "../authz/permissions";
import { apiKeys, organizations, projects } from "../db/schema";
import type { AppEnv } from "../env";
import { bearerToken } from "../identity/sessions";
import { nowMs } from "../lib/clock";
import { ApiError, unauthenticated } from "../lib/errors";
import { sha256Hex, timingSafeEqual } from "../lib/secrets";
import { enforceRateLimit } from "../rate-limit/middleware";
import { looksLikeApiKey } from "./secret";

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
    const row = await c.var.db
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
    const now = nowMs();
    if (!row || !timingSafeEqual(row.keyHash, hash) || (row.expiresAt !== null && row.expiresAt <= now)) {
      throw unauthenticated("The API key is invalid, revoked or expired.");
    }
    const scopes = JSON.parse(row.scopes) as string[];
    c.set("caller", { kind: "api_key", keyId: row.id, projectId: row.projectId, orgId: row.orgId, scopes });
    c.set("orgId", row.orgId);
    c.set("projectId", row.projectId);

    await enforceRateLimit(c, {
      policy: "project",
      key: `project:${row.projectId}`,
      limit: row.rateLimitPerMin ?? c.var.config.rateLimits.projectPerMinute,
      failMode: "open",
    });
    if (scope && !scopes.includes(scope)) throw new ApiError("forbidden", `This API key lacks the '${scope}' scope.`);

    if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_GRANULARITY_MS) {
      const db = c.var.db;
      c.executionCtx.waitUntil(db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id)).run().catch(() => undefined));
    }
    await next();
  };
}

/** The authenticated key; only valid behind `requireApiKey`. */
export function currentApiKey(c: { var: AppEnv["Variables"] }) {
  const caller = c.var.caller;
  if (caller?.kind !== "api_key") throw unauthenticated();
  return caller;
}
