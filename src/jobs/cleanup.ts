/**
 * Retention: the daily cleanup deletes everything past its retention rule, table by table, in
 * bounded statements (`DELETE … WHERE rowid IN (SELECT rowid … LIMIT n)`, each served by an index
 * on the rule's time column, 500 rows each), and keeps going until the backlog is gone or the run's wall-clock
 * budget is spent. A statement never holds D1 for long (a batch of rows, not the table), and a
 * backlog of any size drains within one run as long as the budget allows; what is left when the
 * budget runs out is taken by the next run (the result says `complete: false`).
 *
 * The rules (docs/scaling.md lists them with every other table's):
 * - sessions: expired or revoked;
 * - invitations: not accepted and expired or revoked more than INVITATION_GRACE_MS ago;
 * - audit entries: older than AUDIT_RETENTION_DAYS;
 * - processed LiveKit events, finished webhook messages (with their attempts):
 *   WEBHOOK_RETENTION_DAYS;
 * - raw usage events: USAGE_EVENT_RETENTION_DAYS after they happened, and only once their hour is
 *   rolled up (an hour still waiting for its rollup keeps its events whatever their age);
 * - hour rollups (per project and per room/identity): HOUR_ROLLUP_RETENTION_DAYS (day rollups
 *   are kept: they are what bills and long-range usage read);
 * - closed participant sessions, ended room sessions, ended egresses and deleted ingresses:
 *   AUDIT_RETENTION_DAYS;
 * - email tokens: expired or used; sent or failed mail: MAIL_RETENTION_MS.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { yieldToOtherWork } from "../lib/yield";

/** Rows per DELETE: ~0.4 s per statement on audit_logs (7 indexes) on a loaded machine at 1M rows. */
export const CLEANUP_BATCH_SIZE = 500;
/** Wall-clock budget of one cleanup run; the scheduled handler may run for minutes. */
export const CLEANUP_BUDGET_MS = 120_000;

/** Invitations that expired or were revoked stay visible this long before they are deleted. */
export const INVITATION_GRACE_MS = 30 * 24 * 3600_000;
/** Hour buckets are kept this long; day buckets are kept. */
export const HOUR_ROLLUP_RETENTION_DAYS = 400;

/** Sent or failed mail stays in the outbox this long (who was sent what, and when). */
export const MAIL_RETENTION_MS = 30 * 24 * 3600_000;

const DAY_MS = 24 * 3600_000;

type Table =
  | "sessions"
  | "invitations"
  | "audit_logs"
  | "livekit_events"
  | "webhook_messages"
  | "usage_events"
  | "usage_rollups"
  | "participant_sessions"
  | "egresses"
  | "ingresses"
  | "user_tokens"
  | "mail_outbox"
  | "usage_dimension_rollups"
  | "room_sessions";

export interface DeleteResult {
  deleted: number;
  batches: number;
  /** False when the budget ran out before the last matching row was deleted. */
  complete: boolean;
}

/**
 * Deletes rows of `table` matching `where`, `batchSize` at a time, until none is left or `deadline`
 * (epoch ms) passes. `index` pins the plan (`INDEXED BY`): a rule's time column is skewed in ways
 * table statistics do not show (all old rows at one end), so the planner is not left to guess.
 */
export async function deleteInBatches(
  db: Database,
  table: Table,
  where: SQL,
  opts: { batchSize?: number; deadline?: number; index?: string } = {},
): Promise<DeleteResult> {
  const batchSize = opts.batchSize ?? CLEANUP_BATCH_SIZE;
  const deadline = opts.deadline ?? Date.now() + CLEANUP_BUDGET_MS;
  const indexedBy = opts.index ? sql` INDEXED BY ${sql.identifier(opts.index)}` : sql``;
  let deleted = 0;
  let batches = 0;
  while (Date.now() < deadline) {
    const result = await db.run(
      sql`DELETE FROM ${sql.identifier(table)} WHERE rowid IN (SELECT rowid FROM ${sql.identifier(table)}${indexedBy} WHERE ${where} LIMIT ${batchSize})`,
    );
    batches++;
    const changes = result.meta.changes ?? 0;
    deleted += changes;
    if (changes < batchSize) return { deleted, batches, complete: true };
    await yieldToOtherWork();
  }
  return { deleted, batches, complete: false };
}

export interface CleanupPolicy {
  now: number;
  auditRetentionDays: number;
  /** Inbound LiveKit events and outbound delivery logs (messages with their attempts). */
  webhookRetentionDays: number;
  usageEventRetentionDays: number;
  batchSize?: number;
  /** Wall-clock budget for the whole run (all tables). */
  budgetMs?: number;
}

/** The retention policy the daily run applies: the configured retention days, as of `now`. */
export function cleanupPolicyOf(
  config: Pick<Config, "auditRetentionDays" | "webhookRetentionDays" | "usageEventRetentionDays">,
  now: number,
): CleanupPolicy {
  return {
    now,
    auditRetentionDays: config.auditRetentionDays,
    webhookRetentionDays: config.webhookRetentionDays,
    usageEventRetentionDays: config.usageEventRetentionDays,
  };
}

/** Each rule: the table, its WHERE clause (one range on an indexed column) and that index. */
export async function retentionRules(db: Database, policy: CleanupPolicy): Promise<[Table, SQL, string][]> {
  const { now } = policy;
  const auditCutoff = now - policy.auditRetentionDays * DAY_MS;
  const webhookCutoff = now - policy.webhookRetentionDays * DAY_MS;
  const invitationCutoff = now - INVITATION_GRACE_MS;
  // Raw events of an hour still waiting for its rollup are what the rollup will read: keep them.
  const oldestDirty = await db.$client.prepare("SELECT MIN(hour_start) AS h FROM usage_dirty_hours").first<{ h: number | null }>();
  const usageCutoff = Math.min(now - policy.usageEventRetentionDays * DAY_MS, oldestDirty?.h ?? Number.MAX_SAFE_INTEGER);
  return [
    // A revoked session can never authenticate again; an expired one neither.
    ["sessions", sql`expires_at <= ${now}`, "sessions_expires_at_idx"],
    ["sessions", sql`revoked_at <= ${now}`, "sessions_revoked_at_idx"],
    // Accepted invitations are history (who invited whom) and are kept.
    ["invitations", sql`expires_at <= ${invitationCutoff} AND accepted_at IS NULL`, "invitations_expires_at_idx"],
    ["invitations", sql`revoked_at <= ${invitationCutoff} AND accepted_at IS NULL`, "invitations_revoked_at_idx"],
    ["audit_logs", sql`created_at < ${auditCutoff}`, "audit_logs_created_at_idx"],
    // Only finished work goes: an unprocessed event or a message still being delivered is kept
    // whatever its age. A message's attempts go with it (ON DELETE CASCADE).
    ["livekit_events", sql`received_at < ${webhookCutoff} AND processed_at IS NOT NULL`, "livekit_events_received_at_idx"],
    ["webhook_messages", sql`status IN ('delivered', 'failed') AND created_at < ${webhookCutoff}`, "webhook_messages_status_created_idx"],
    ["usage_events", sql`occurred_at < ${usageCutoff}`, "usage_events_occurred_at_idx"],
    ["usage_rollups", sql`granularity = 'hour' AND bucket_start < ${now - HOUR_ROLLUP_RETENTION_DAYS * DAY_MS}`, "usage_rollups_bucket_idx"],
    ["usage_dimension_rollups", sql`granularity = 'hour' AND bucket_start < ${now - HOUR_ROLLUP_RETENTION_DAYS * DAY_MS}`, "usage_dimension_rollups_bucket_idx"],
    ["participant_sessions", sql`left_at < ${auditCutoff}`, "participant_sessions_open_idx"],
    ["room_sessions", sql`ended_at < ${auditCutoff}`, "room_sessions_ended_at_idx"],
    ["egresses", sql`ended_at < ${auditCutoff}`, "egresses_ended_at_idx"],
    ["ingresses", sql`deleted_at < ${auditCutoff}`, "ingresses_deleted_at_idx"],
    // Email verification and reset tokens are dead once used or expired.
    ["user_tokens", sql`expires_at <= ${now}`, "user_tokens_expires_at_idx"],
    ["user_tokens", sql`used_at <= ${now}`, "user_tokens_used_at_idx"],
    ["mail_outbox", sql`created_at < ${now - MAIL_RETENTION_MS} AND status IN ('sent', 'failed')`, "mail_outbox_created_at_idx"],
  ];
}

export async function cleanupExpired(db: Database, policy: CleanupPolicy) {
  const deadline = Date.now() + (policy.budgetMs ?? CLEANUP_BUDGET_MS);
  const results: Partial<Record<Table, DeleteResult>> = {};
  for (const [table, where, index] of await retentionRules(db, policy)) {
    const r = await deleteInBatches(db, table, where, { batchSize: policy.batchSize, deadline, index });
    const prev = results[table];
    results[table] = prev ? { deleted: prev.deleted + r.deleted, batches: prev.batches + r.batches, complete: prev.complete && r.complete } : r;
  }
  // No `PRAGMA optimize` here: on a 1M-row table its ANALYZE took 7 s (one statement holding D1's
  // writer) and D1 refuses `analysis_limit`. Run it once after a migration that adds indexes.
  const complete = Object.values(results).every((r) => r.complete);
  return { complete, ...results };
}
