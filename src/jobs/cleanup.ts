/**
 * TTL cleanup. Each table is cleaned in bounded batches (`DELETE … WHERE rowid IN (SELECT rowid …
 * LIMIT n)`) with a cap on batches per run, so one run never holds D1 for long or exceeds a
 * Worker's limits on a large table; whatever is left is taken by the next run.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";

export const CLEANUP_BATCH_SIZE = 500;
export const CLEANUP_MAX_BATCHES = 20;

/** Invitations that expired or were revoked stay visible this long before they are deleted. */
export const INVITATION_GRACE_MS = 30 * 24 * 3600_000;

/** Sent or failed mail stays in the outbox this long (who was sent what, and when). */
export const MAIL_RETENTION_MS = 30 * 24 * 3600_000;

/** Deletes rows of `table` matching `where`, `batchSize` at a time, at most `maxBatches` times. */
export async function deleteInBatches(
  db: Database,
  table: "sessions" | "invitations" | "audit_logs" | "livekit_events" | "webhook_messages" | "user_tokens" | "mail_outbox",
  where: SQL,
  opts: { batchSize?: number; maxBatches?: number } = {},
): Promise<{ deleted: number; batches: number; complete: boolean }> {
  const batchSize = opts.batchSize ?? CLEANUP_BATCH_SIZE;
  const maxBatches = opts.maxBatches ?? CLEANUP_MAX_BATCHES;
  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches) {
    const result = await db.run(
      sql`DELETE FROM ${sql.identifier(table)} WHERE rowid IN (SELECT rowid FROM ${sql.identifier(table)} WHERE ${where} LIMIT ${batchSize})`,
    );
    batches++;
    const changes = result.meta.changes ?? 0;
    deleted += changes;
    if (changes < batchSize) return { deleted, batches, complete: true };
  }
  return { deleted, batches, complete: false };
}

export interface CleanupPolicy {
  now: number;
  auditRetentionDays: number;
  /** Inbound LiveKit events and outbound delivery logs (messages with their attempts). */
  webhookRetentionDays: number;
  batchSize?: number;
  maxBatches?: number;
}

export async function cleanupExpired(db: Database, policy: CleanupPolicy) {
  const { now } = policy;
  const opts = { batchSize: policy.batchSize, maxBatches: policy.maxBatches };
  // A revoked session can never authenticate again; an expired one neither.
  const sessions = await deleteInBatches(db, "sessions", sql`expires_at <= ${now} OR revoked_at IS NOT NULL`, opts);
  // Accepted invitations are history (who invited whom) and are kept.
  const invitations = await deleteInBatches(
    db,
    "invitations",
    sql`accepted_at IS NULL AND (expires_at <= ${now - INVITATION_GRACE_MS} OR revoked_at <= ${now - INVITATION_GRACE_MS})`,
    opts,
  );
  const auditLogs = await deleteInBatches(db, "audit_logs", sql`created_at < ${now - policy.auditRetentionDays * 24 * 3600_000}`, opts);
  const webhookCutoff = now - policy.webhookRetentionDays * 24 * 3600_000;
  // Only finished work goes: an unprocessed event or a message still being delivered is kept
  // whatever its age. A message's attempts go with it (ON DELETE CASCADE).
  const livekitEvents = await deleteInBatches(db, "livekit_events", sql`processed_at IS NOT NULL AND received_at < ${webhookCutoff}`, opts);
  const webhookMessages = await deleteInBatches(
    db,
    "webhook_messages",
    sql`status IN ('delivered', 'failed') AND created_at < ${webhookCutoff}`,
    opts,
  );
  // Email verification and reset tokens are dead once used or expired.
  const userTokens = await deleteInBatches(db, "user_tokens", sql`expires_at <= ${now} OR used_at IS NOT NULL`, opts);
  const mailOutbox = await deleteInBatches(db, "mail_outbox", sql`status IN ('sent', 'failed') AND created_at < ${now - MAIL_RETENTION_MS}`, opts);
  return { sessions, invitations, auditLogs, livekitEvents, webhookMessages, userTokens, mailOutbox };
}
