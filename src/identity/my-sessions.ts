/** The signed-in user's own sessions: list, revoke one, revoke all but the current one. */
import { and, eq, exists, gt, isNull, ne } from "drizzle-orm";
import { auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import type { Database } from "../db/client";
import { sessions } from "../db/schema";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { afterCursor, newestFirst, page } from "../lib/pagination";

export interface SessionCaller {
  userId: string;
  sessionId: string;
  actor: AuditActor;
}

/** Live sessions: neither revoked nor expired. */
function live(userId: string, at: number) {
  return and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, at))!;
}

export async function listSessions(db: Database, userId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(sessions)
    .where(and(live(userId, nowMs()), afterCursor(opts.cursor, sessions.createdAt, sessions.id)))
    .orderBy(...newestFirst(sessions.createdAt, sessions.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** Revokes one of the caller's live sessions (the current one too: that is signing out). */
export async function revokeSession(db: Database, caller: SessionCaller, sessionId: string): Promise<void> {
  const at = nowMs();
  const target = and(eq(sessions.id, sessionId), live(caller.userId, at))!;
  const actor = { ...caller.actor, actorType: "user" as const, actorId: caller.userId };
  const [, revoked] = await db.batch([
    // Before the change, under the same condition: the entry exists exactly when the session was revoked.
    auditEntryWhen(
      db,
      actor,
      { action: "session.revoked", resourceType: "session", resourceId: sessionId, metadata: { current: sessionId === caller.sessionId } },
      exists(db.select({ one: sessions.id }).from(sessions).where(target)),
      at,
    ),
    db.update(sessions).set({ revokedAt: at }).where(target).returning({ id: sessions.id }),
  ]);
  if (revoked.length === 0) throw notFound("Session");
}

/** Revokes every live session of the caller except the one making the request. */
export async function revokeOtherSessions(db: Database, caller: SessionCaller): Promise<number> {
  const at = nowMs();
  const [revoked] = await db.batch([
    db
      .update(sessions)
      .set({ revokedAt: at })
      .where(and(live(caller.userId, at), ne(sessions.id, caller.sessionId)))
      .returning({ id: sessions.id }),
    auditEntry(db, { ...caller.actor, actorType: "user", actorId: caller.userId }, { action: "session.revoked_all", resourceType: "session", resourceId: caller.sessionId, metadata: { kept: caller.sessionId } }, at),
  ]);
  return revoked.length;
}
