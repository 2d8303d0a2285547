import { and, eq, isNull } from "drizzle-orm";
import { rowsMatch } from "../db/count-cap";
import { isUniqueViolation, runBatch, type BatchItem, type Database } from "../db/client";
import { memberships, organizations, sessions, users } from "../db/schema";
import { auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import { nowMs } from "../lib/clock";
import { normalizeEmail } from "../lib/email";
import { conflict, unauthenticated } from "../lib/errors";
import { newId } from "../lib/ids";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "../lib/secrets";
import { sendStaged, stageMail, unstageMail } from "../mail/mailer";
import { verificationEmail } from "../mail/templates";
import type { AccountDeps } from "./deps";
import { reserveLoginAttempt } from "./login-throttle";
import { newSession } from "./sessions";
import { issueUserToken, TOKEN_RULES } from "./user-tokens";

export { normalizeEmail };

/** The dashboard page that takes a verification token (contract: `/verify-email?token=`). */
export function verifyEmailLink(publicUrl: string, token: string): string {
  return `${publicUrl}/verify-email?token=${encodeURIComponent(token)}`;
}

/** A fresh verification token for `user` and its email, as batch statements plus the staged mail. */
export async function verificationMail(deps: AccountDeps, user: { id: string; email: string }, at: number) {
  const { token, writes } = await issueUserToken(deps.db, user.id, "email_verification", at);
  const link = verifyEmailLink(deps.config.publicUrl, token);
  const mail = await stageMail(deps, verificationEmail(user.email, link, TOKEN_RULES.email_verification.ttlMs / 3600_000), at);
  return { writes, mail };
}

/**
 * Creates the account (email unverified) and its first session, and mails a verification link.
 * The mail is throttled per address like every other; a throttled one is simply not sent (resend),
 * and a signup refused (the email is taken) gives its mail's slot back.
 */
export async function signup(deps: AccountDeps, actor: AuditActor, input: { email: string; password: string; name: string }) {
  const { db } = deps;
  const at = nowMs();
  const user = {
    id: newId("user"),
    email: input.email.trim(),
    emailNormalized: normalizeEmail(input.email),
    name: input.name,
    passwordHash: await hashPassword(input.password, deps.config.passwordPepper),
    emailVerifiedAt: null,
    createdAt: at,
    updatedAt: at,
  };
  const session = await newSession(db, user.id, deps.config.sessionTtlHours, actor);
  const asUser = { ...actor, actorType: "user" as const, actorId: user.id };
  const verification = await verificationMail(deps, user, at);
  try {
    await runBatch(db, [
      db.insert(users).values(user),
      session.insert,
      auditEntry(db, asUser, { action: "user.signed_up", resourceType: "user", resourceId: user.id }, at),
      ...verification.writes,
      ...(verification.mail.ok ? [verification.mail.insert] : []),
    ]);
  } catch (error) {
    await unstageMail(deps, [verification.mail]);
    if (isUniqueViolation(error)) throw conflict("An account with this email already exists.");
    throw error;
  }
  await sendStaged(deps, [verification.mail]);
  return { user, token: session.token, expiresAt: session.expiresAt };
}

const LOGIN_FAILED = "Invalid email or password.";

/**
 * Checks credentials in constant time with respect to whether the email exists (a dummy hash is
 * verified for unknown emails) and gives one generic message for every failure. Failures count
 * against the account's throttle (login-throttle.ts) before the password is even looked at.
 */
export async function login(deps: AccountDeps, actor: AuditActor, input: { email: string; password: string }) {
  const { db } = deps;
  const pepper = deps.config.passwordPepper;
  const attempt = await reserveLoginAttempt(deps.limiter, input.email);
  const user = await db.select().from(users).where(eq(users.emailNormalized, normalizeEmail(input.email))).get();
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash(pepper)), pepper);
  const at = nowMs();
  if (!user || !ok) {
    await db.batch([
      auditEntry(
        db,
        { ...actor, actorType: user ? "user" : "anonymous", actorId: user?.id ?? null },
        { action: "user.login_failed", resourceType: "user", resourceId: user?.id ?? null, metadata: { reason: user ? "bad_password" : "unknown_email" } },
        at,
      ),
    ]);
    throw unauthenticated(LOGIN_FAILED);
  }
  await attempt.succeeded();
  const session = await newSession(db, user.id, deps.config.sessionTtlHours, actor);
  const asUser = { ...actor, actorType: "user" as const, actorId: user.id };
  const writes: BatchItem[] = [session.insert, auditEntry(db, asUser, { action: "user.logged_in", resourceType: "session", resourceId: session.id }, at)];
  if (needsRehash(user.passwordHash)) {
    // Hashes from before the pepper (or with fewer iterations) are upgraded now that we know the password.
    writes.push(db.update(users).set({ passwordHash: await hashPassword(input.password, pepper), updatedAt: at }).where(eq(users.id, user.id)));
  }
  await runBatch(db, writes);
  return { user, token: session.token, expiresAt: session.expiresAt };
}

/** Signs the session out: its token stops working at once. */
export async function logout(db: Database, session: { sessionId: string; audit: AuditActor }): Promise<void> {
  const at = nowMs();
  const open = and(eq(sessions.id, session.sessionId), isNull(sessions.revokedAt));
  // Audited once, by the request that signed it out (a second logout racing it changes nothing).
  await db.batch([
    auditEntryWhen(db, session.audit, { action: "user.logged_out", resourceType: "session", resourceId: session.sessionId }, rowsMatch(sessions, open!), at),
    db.update(sessions).set({ revokedAt: at }).where(open),
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
