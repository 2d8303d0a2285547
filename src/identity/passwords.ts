/**
 * Forgotten, reset and changed passwords.
 *
 * - forgot: always 202. The answer is sent after the same foreground work whether or not the email
 *   has an account (one indexed lookup); the token, the outbox row and the per-address throttle run
 *   after the response (`defer`), so neither the status nor the timing tells accounts apart.
 * - reset: the emailed token (single use, 1 h) sets a new password, revokes every session, and
 *   marks the email verified (the token proved the mailbox is theirs).
 * - change: needs the current password (counted by the account's login throttle) and revokes the
 *   user's other sessions.
 */
import { and, eq, isNull, ne } from "drizzle-orm";
import { auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import { runBatch } from "../db/client";
import { sessions, users } from "../db/schema";
import { nowMs } from "../lib/clock";
import { normalizeEmail } from "../lib/email";
import { unauthenticated, validationFailed } from "../lib/errors";
import { hashPassword, verifyPassword } from "../lib/secrets";
import { sendStaged, stageMail } from "../mail/mailer";
import { passwordResetEmail } from "../mail/templates";
import type { AccountDeps } from "./deps";
import { clearLoginFailures, reserveLoginAttempt } from "./login-throttle";
import { consumeToken, findUsableToken, invalidToken, issueUserToken, TOKEN_RULES, usableCondition } from "./user-tokens";
import { errorMessage } from "../lib/logger";

/** The dashboard page that takes a reset token (contract: `/reset-password?token=`). */
export function resetPasswordLink(publicUrl: string, token: string): string {
  return `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

export async function forgotPassword(deps: AccountDeps, actor: AuditActor, email: string): Promise<void> {
  const { db } = deps;
  const user = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.emailNormalized, normalizeEmail(email))).get();
  deps.background(
    sendResetMail(deps, actor, email, user ?? null).catch((error) =>
      deps.logger.error("password_reset_mail_failed", { error_message: errorMessage(error) }),
    ),
  );
}

async function sendResetMail(deps: AccountDeps, actor: AuditActor, requested: string, user: { id: string; email: string } | null): Promise<void> {
  const { db } = deps;
  const at = nowMs();
  const { token, writes } = await issueUserToken(db, user?.id ?? "", "password_reset", at);
  const link = resetPasswordLink(deps.config.publicUrl, token);
  // The throttle counts requests for unknown addresses too: the same work either way.
  const mail = await stageMail(deps, passwordResetEmail(user?.email ?? requested, link, TOKEN_RULES.password_reset.ttlMs / 60_000), at);
  if (!user || !mail.ok) return;
  await runBatch(db, [
    ...writes,
    mail.insert,
    auditEntry(db, { ...actor, actorType: "anonymous", actorId: null }, { action: "user.password_reset_requested", resourceType: "user", resourceId: user.id }, at),
  ]);
  await sendStaged(deps, [mail]);
}

export async function resetPassword(deps: AccountDeps, actor: AuditActor, input: { token: string; password: string }) {
  const { db } = deps;
  const at = nowMs();
  const row = await findUsableToken(db, input.token, "password_reset", at);
  const passwordHash = await hashPassword(input.password, deps.config.passwordPepper);
  const usable = usableCondition(db, row.id, at);
  const asUser = { ...actor, actorType: "user" as const, actorId: row.userId };
  const user = await db.select().from(users).where(eq(users.id, row.userId)).get();
  if (!user) throw invalidToken();
  const results = await runBatch(db, [
    auditEntryWhen(db, asUser, { action: "user.password_reset", resourceType: "user", resourceId: row.userId, metadata: { sessions_revoked: "all" } }, usable, at),
    db
      .update(users)
      .set({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? at, updatedAt: at })
      .where(and(eq(users.id, row.userId), usable)),
    db.update(sessions).set({ revokedAt: at }).where(and(eq(sessions.userId, row.userId), isNull(sessions.revokedAt), usable)),
    consumeToken(db, row.id, at),
  ]);
  if ((results[3] as { id: string }[]).length === 0) throw invalidToken();
  await clearLoginFailures(deps.limiter, user.email);
  return { ...user, passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? at, updatedAt: at };
}

export async function changePassword(
  deps: AccountDeps,
  actor: AuditActor,
  caller: { userId: string; sessionId: string },
  input: { current_password: string; new_password: string },
) {
  const { db } = deps;
  const pepper = deps.config.passwordPepper;
  const user = await db.select().from(users).where(eq(users.id, caller.userId)).get();
  if (!user) throw unauthenticated();
  const attempt = await reserveLoginAttempt(deps.limiter, user.email);
  if (!(await verifyPassword(input.current_password, user.passwordHash, pepper))) {
    const message = "The current password is not correct.";
    throw validationFailed(`Invalid request: current_password: ${message}`, [{ path: "current_password", message }]);
  }
  await attempt.succeeded();
  const at = nowMs();
  const passwordHash = await hashPassword(input.new_password, pepper);
  const asUser = { ...actor, actorType: "user" as const, actorId: user.id };
  await db.batch([
    db.update(users).set({ passwordHash, updatedAt: at }).where(eq(users.id, user.id)),
    db
      .update(sessions)
      .set({ revokedAt: at })
      .where(and(eq(sessions.userId, user.id), ne(sessions.id, caller.sessionId), isNull(sessions.revokedAt))),
    auditEntry(db, asUser, { action: "user.password_changed", resourceType: "user", resourceId: user.id, metadata: { other_sessions_revoked: true } }, at),
  ]);
  return { ...user, passwordHash, updatedAt: at };
}
