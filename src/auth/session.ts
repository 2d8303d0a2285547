/** Authenticating people by dashboard session: an opaque bearer token stored only as SHA-256. */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Database } from "../db/client";
import { sessions, users } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { unauthenticated } from "../lib/errors";
import { sha256Hex } from "../lib/secrets";
import { bearerToken, SESSION_TOKEN_PREFIX } from "./credentials";

/** The live (not expired, not signed out) session a token belongs to, with its user, or undefined. */
export async function findLiveSession(db: Database, token: string) {
  return db
    .select({ sessionId: sessions.id, userId: users.id, email: users.email, name: users.name, emailVerifiedAt: users.emailVerifiedAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, await sha256Hex(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, nowMs())))
    .get();
}

/** Requires a live (not expired, not signed out) session; sets `c.var.caller` to its user. */
export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthenticated("Sign in: send Authorization: Bearer <session token>.");
  if (!token.startsWith(SESSION_TOKEN_PREFIX)) throw unauthenticated("This endpoint needs a user session, not an API key.");
  const row = await findLiveSession(c.var.db, token);
  if (!row) throw unauthenticated("The session is invalid, expired or signed out.");
  c.set("caller", { kind: "user", userId: row.userId, sessionId: row.sessionId, email: row.email });
  await next();
};
