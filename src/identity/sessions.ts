/**
 * Dashboard sessions: opaque bearer tokens (`sess_…`), stored only as SHA-256, revocable at once.
 * They never start with `pulse_`, which the contract reserves for project API keys.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Database } from "../db/client";
import { sessions, users } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { unauthenticated } from "../lib/errors";
import { newId } from "../lib/ids";
import { generateSecret, sha256Hex } from "../lib/secrets";

export const SESSION_TOKEN_PREFIX = "sess_";

export async function newSession(db: Database, userId: string, ttlHours: number, meta: { ip: string | null; userAgent: string | null }) {
  const token = generateSecret(SESSION_TOKEN_PREFIX, 32);
  const createdAt = nowMs();
  const expiresAt = createdAt + ttlHours * 3600_000;
  const id = newId("session");
  const insert = db.insert(sessions).values({
    id,
    userId,
    tokenHash: await sha256Hex(token),
    ip: meta.ip,
    userAgent: meta.userAgent,
    createdAt,
    expiresAt,
  });
  return { id, token, expiresAt, insert };
}

/** Bearer token from `Authorization`, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** The live (not revoked, not expired) session a token belongs to, with its user, or undefined. */
export async function findLiveSession(db: Database, token: string) {
  return db
    .select({ sessionId: sessions.id, userId: users.id, email: users.email, name: users.name, emailVerifiedAt: users.emailVerifiedAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, await sha256Hex(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, nowMs())))
    .get();
}

/** Requires a live dashboard session; sets `c.var.caller` to the user. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Routers mounted on overlapping prefixes may each apply this; authenticate once per request.
  if (c.var.caller?.kind === "user") return next();
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthenticated("Sign in: send Authorization: Bearer <session token>.");
  if (!token.startsWith(SESSION_TOKEN_PREFIX)) throw unauthenticated("This endpoint needs a user session, not an API key.");
  const row = await findLiveSession(c.var.db, token);
  if (!row) throw unauthenticated("The session is invalid, expired or signed out.");
  c.set("caller", { kind: "user", userId: row.userId, sessionId: row.sessionId, email: row.email });
  await next();
};

/** The signed-in user's id; only valid behind `requireUser`. */
export function currentUser(c: { var: AppEnv["Variables"] }) {
  const caller = c.var.caller;
  if (caller?.kind !== "user") throw unauthenticated();
  return caller;
}
