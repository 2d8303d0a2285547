/**
 * Email verification: a new account's `email_verified_at` is null until the emailed token is
 * posted back. Verifying needs only the token (the link may be opened on another device); the
 * resend needs the signed-in, still unverified user and is throttled per address (429 beyond it).
 */
import { and, eq, isNull } from "drizzle-orm";
import { rowsMatch } from "../db/count-cap";
import { auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import { runBatch } from "../db/client";
import { users } from "../db/schema";
import { nowMs } from "../lib/clock";
import { ApiError, conflict, unauthenticated } from "../lib/errors";
import { sendStaged } from "../mail/mailer";
import type { AccountDeps } from "./deps";
import { verificationMail } from "./service";
import { consumeToken, findUsableToken, invalidToken, usableCondition } from "./user-tokens";

export async function verifyEmail(deps: AccountDeps, actor: AuditActor, token: string) {
  const { db } = deps;
  const at = nowMs();
  const row = await findUsableToken(db, token, "email_verification", at);
  const usable = usableCondition(db, row.id, at);
  const asUser = { ...actor, actorType: "user" as const, actorId: row.userId };
  const unverified = and(eq(users.id, row.userId), isNull(users.emailVerifiedAt));
  // Audited only when this link is what verified the address (a password reset may have already).
  const [, , consumed] = await db.batch([
    auditEntryWhen(
      db,
      asUser,
      { action: "user.email_verified", resourceType: "user", resourceId: row.userId },
      and(usable, rowsMatch(users, unverified!))!,
      at,
    ),
    db.update(users).set({ emailVerifiedAt: at, updatedAt: at }).where(and(unverified, usable)),
    consumeToken(db, row.id, at),
  ]);
  if (consumed.length === 0) throw invalidToken();
  const user = await db.select().from(users).where(eq(users.id, row.userId)).get();
  if (!user) throw invalidToken();
  return user;
}

/** A new verification link for the signed-in user; the older ones stop working. Audited with them. */
export async function resendVerification(deps: AccountDeps, actor: AuditActor, userId: string): Promise<void> {
  const { db } = deps;
  const user = await db.select().from(users).where(eq(users.id, userId)).get();
  if (!user) throw unauthenticated();
  if (user.emailVerifiedAt !== null) throw conflict("This email address is already verified.");
  const at = nowMs();
  const verification = await verificationMail(deps, user, at);
  if (!verification.mail.ok) {
    const retryAfter = String(Math.ceil(verification.mail.retryAfterMs / 1000));
    throw new ApiError("rate_limited", `Too many emails to this address; retry in ${retryAfter} s.`, { headers: { "Retry-After": retryAfter } });
  }
  await runBatch(db, [
    ...verification.writes,
    verification.mail.insert,
    auditEntry(db, actor, { action: "user.verification_resent", resourceType: "user", resourceId: userId }, at),
  ]);
  await sendStaged(deps, [verification.mail]);
}
