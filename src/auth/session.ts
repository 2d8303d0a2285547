/** Authenticating people by dashboard session: an opaque bearer token stored only as SHA-256. */
import { and, eq, gt, isNull, lte, or } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { Database } from "../db/client";
import { sessions, users } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { unauthenticated } from "../lib/errors";
import { sha256Hex } from "../lib/secrets";
import { enforceRateLimit } from "../middleware/rate-limit";
import { bearerToken, SESSION_TOKEN_PREFIX } from "./credentials";
import { errorMessage } from "../lib/logger";

/** `last_used_at` is written at most this often per session: a cheap, good-enough "last seen". */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The live (not expired, not signed out) session a token belongs to, with its user, or undefined. */
export async function findLiveSession(db: Database, token: string, at = nowMs()) {
  return db
    .select({
      sessionId: sessions.id,
      userId: users.id,
      email: users.email,
      name: users.name,
      emailVerifiedAt: users.emailVerifiedAt,
      lastUsedAt: sessions.lastUsedAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, await sha256Hex(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, at)))
    .get();
}

/**
 * Requires a live (not expired, not signed out) session; sets `c.var.caller` to its user and counts
 * the request (`sessionRequest`).
 */
export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthenticated("Sign in: send Authorization: Bearer <session token>.");
  if (!token.startsWith(SESSION_TOKEN_PREFIX)) throw unauthenticated("This endpoint needs a user session, not an API key.");
  const at = nowMs();
  const row = await findLiveSession(c.var.db, token, at);
  if (!row) throw unauthenticated("The session is invalid, expired or signed out.");
  c.set("caller", { kind: "user", userId: row.userId, sessionId: row.sessionId, email: row.email });
  await sessionRequest(c, row, at);
  await next();
};

/**
 * What every request of a live session does, bearer token or dashboard cookie alike: refreshes its
 * `last_used_at` behind the answer (at most once per LAST_USED_RESOLUTION_MS) and counts against
 * the user's limit (RATE_LIMIT_USER_PER_MIN; a 429 throws). The limit fails open like API-key
 * routes: a limiter outage must not lock everyone out of the dashboard.
 */
export async function sessionRequest(c: Context<AppEnv>, row: { sessionId: string; userId: string; lastUsedAt: number | null }, at: number) {
  if (row.lastUsedAt === null || row.lastUsedAt <= at - LAST_USED_RESOLUTION_MS) {
    const touch = touchSession(c.var.db, row.sessionId, at).catch((error) =>
      c.var.logger.warn("session_touch_failed", { error_message: errorMessage(error) }),
    );
    c.executionCtx.waitUntil(touch);
  }
  await enforceRateLimit(c, { policy: "user", key: `user:${row.userId}`, limit: c.var.config.rateLimits.userPerMinute, failMode: "open" });
}

/** Guarded so that concurrent requests of one session write it once per resolution step. */
function touchSession(db: Database, sessionId: string, at: number) {
  return db
    .update(sessions)
    .set({ lastUsedAt: at })
    .where(and(eq(sessions.id, sessionId), or(isNull(sessions.lastUsedAt), lte(sessions.lastUsedAt, at - LAST_USED_RESOLUTION_MS))))
    .run();
}
