/**
 * Single-use tokens mailed to users: email verification (`vrf_…`, 24 h) and password reset
 * (`rst_…`, 1 h). 32 random bytes, stored only as SHA-256 in `user_tokens`. A token is usable
 * while unused and unexpired; issuing a new one of a purpose retires the user's older ones, and
 * using one is a guarded UPDATE in the same batch as its effect (see `usableCondition`).
 */
import { and, eq, exists, gt, isNull, ne, type SQL } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { userTokens } from "../db/schema";
import { validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { generateSecret, sha256Hex } from "../lib/secrets";

export type TokenPurpose = (typeof userTokens.$inferSelect)["purpose"];

export const TOKEN_RULES: Record<TokenPurpose, { prefix: string; ttlMs: number }> = {
  email_verification: { prefix: "vrf_", ttlMs: 24 * 3600_000 },
  password_reset: { prefix: "rst_", ttlMs: 3600_000 },
};

/** A new token and the statements that store it and retire the user's older tokens of the purpose. */
export async function issueUserToken(db: Database, userId: string, purpose: TokenPurpose, at: number) {
  const rules = TOKEN_RULES[purpose];
  const token = generateSecret(rules.prefix, 32);
  const id = newId("userToken");
  const expiresAt = at + rules.ttlMs;
  const writes: BatchItem[] = [
    db
      .update(userTokens)
      .set({ usedAt: at })
      .where(and(eq(userTokens.userId, userId), eq(userTokens.purpose, purpose), isNull(userTokens.usedAt), ne(userTokens.id, id))),
    db.insert(userTokens).values({ id, userId, purpose, tokenHash: await sha256Hex(token), createdAt: at, expiresAt }),
  ];
  return { token, expiresAt, writes };
}

const INVALID = "This link is invalid, already used or expired; ask for a new one.";

/** The usable token row for `token`, or 400 `validation_failed` on `token` (one answer for every reason). */
export async function findUsableToken(db: Database, token: string, purpose: TokenPurpose, at: number) {
  const row = await db
    .select()
    .from(userTokens)
    .where(and(eq(userTokens.tokenHash, await sha256Hex(token)), eq(userTokens.purpose, purpose)))
    .get();
  if (!row || row.usedAt !== null || row.expiresAt <= at) throw invalidToken();
  return row;
}

export function invalidToken() {
  return validationFailed(`Invalid request: token: ${INVALID}`, [{ path: "token", message: INVALID }]);
}

/**
 * "Token `id` is still usable at `at`", as SQL. The statements a token unlocks run under this
 * condition, then `consumeToken` (last in the batch) marks it used: a batch is one transaction, so
 * of two concurrent uses exactly one finds it true.
 */
export function usableCondition(db: Database, id: string, at: number): SQL {
  return exists(
    db
      .select({ one: userTokens.id })
      .from(userTokens)
      .where(and(eq(userTokens.id, id), isNull(userTokens.usedAt), gt(userTokens.expiresAt, at))),
  );
}

export function consumeToken(db: Database, id: string, at: number) {
  return db
    .update(userTokens)
    .set({ usedAt: at })
    .where(and(eq(userTokens.id, id), isNull(userTokens.usedAt), gt(userTokens.expiresAt, at)))
    .returning({ id: userTokens.id });
}
