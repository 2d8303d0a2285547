import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { isUniqueViolation, runBatch } from "../db/client";
import { memberships, organizations, sessions, users } from "../db/schema";
import { auditEntry, type AuditActor } from "../audit/record";
import { nowMs } from "../lib/clock";
import { conflict, unauthenticated } from "../lib/errors";
import { newId } from "../lib/ids";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "../lib/secrets";
import { newSession } from "./sessions";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

interface SessionOptions {
  ttlHours: number;
  actor: AuditActor;
}

export async function signup(db: Database, input: { email: string; password: string; name: string }, opts: SessionOptions) {
  const at = nowMs();
  const user = {
    id: newId("user"),
    email: input.email.trim(),
    emailNormalized: normalizeEmail(input.email),
    name: input.name,
    passwordHash: await hashPassword(input.password),
    // Signup proves control of the address in the flows Pulse supports today (invitations match on it).
    emailVerifiedAt: at,
    createdAt: at,
    updatedAt: at,
  };
  const session = await newSession(db, user.id, opts.ttlHours, opts.actor);
  const actor = { ...opts.actor, actorType: "user" as const, actorId: user.id };
  try {
    await db.batch([
      db.insert(users).values(user),
      session.insert,
      auditEntry(db, actor, { action: "user.signed_up", resourceType: "user", resourceId: user.id }, at),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict("An account with this email already exists.");
    throw error;
  }
  return { user, token: session.token, expiresAt: session.expiresAt };
}

const LOGIN_FAILED = "Invalid email or password.";

/**
 * Checks credentials in constant time with respect to whether the email exists (a dummy hash is
 * verified for unknown emails) and gives one generic message for every failure.
 */
export async function login(db: Database, input: { email: string; password: string }, opts: SessionOptions) {
  const user = await db.select().from(users).where(eq(users.emailNormalized, normalizeEmail(input.email))).get();
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  const at = nowMs();
  if (!user || !ok) {
    await db.batch([
      auditEntry(
        db,
        { ...opts.actor, actorType: user ? "user" : "anonymous", actorId: user?.id ?? null },
        { action: "user.login_failed", resourceType: "user", resourceId: user?.id ?? null, metadata: { reason: user ? "bad_password" : "unknown_email" } },
        at,
      ),
    ]);
    throw unauthenticated(LOGIN_FAILED);
  }
  const session = await newSession(db, user.id, opts.ttlHours, opts.actor);
  const actor = { ...opts.actor, actorType: "user" as const, actorId: user.id };
  const writes = [session.insert, auditEntry(db, actor, { action: "user.logged_in", resourceType: "session", resourceId: session.id }, at)];
  if (needsRehash(user.passwordHash)) {
    writes.push(db.update(users).set({ passwordHash: await hashPassword(input.password), updatedAt: at }).where(eq(users.id, user.id)));
  }
  await runBatch(db, writes);
  return { user, token: session.token, expiresAt: session.expiresAt };
}

/** Signs the session out: its token stops working at once. */
export async function logout(db: Database, session: { sessionId: string; audit: AuditActor }): Promise<void> {
  const at = nowMs();
  await db.batch([
    db.update(sessions).set({ revokedAt: at }).where(and(eq(sessions.id, session.sessionId), isNull(sessions.revokedAt))),
    auditEntry(db, session.audit, { action: "user.logged_out", resourceType: "session", resourceId: session.sessionId }, at),
  ]);
}

/** The user and the live organizations they belong to, oldest first, with their role in each. */
export async function describeUser(db: Database, userId: string) {
  const [user, orgs] = await Promise.all([
    db.select().from(users).where(eq(users.id, userId)).get(),
    db
      .select({ id: organizations.id, name: organizations.name, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.orgId))
      .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt)))
      .orderBy(organizations.createdAt)
      .all(),
  ]);
  if (!user) throw unauthenticated();
  return { user, organizations: orgs };
}
