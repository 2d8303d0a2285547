/**
 * The mail outbox. A message is written as a `mail_outbox` row in the same `db.batch()` as the
 * change that causes it (a signup, a reset request, an invitation), so no mail is promised without
 * its cause and no cause is committed without its mail; the queue then carries only the row's id.
 * A queue send lost after the commit is picked up by the cron (`requeueOverdueMail`).
 */
import { and, eq, lt, type SQL } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { insertWhen } from "../db/count-cap";
import { mailOutbox } from "../db/schema";
import { normalizeEmail } from "../lib/email";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";

export type MailTemplate = "email_verification" | "password_reset" | "invitation";

export interface OutgoingMail {
  to: string;
  template: MailTemplate;
  subject: string;
  text: string;
}

/** What travels through the queue for mail (webhook deliveries carry `kind: "webhook"` or none). */
export interface MailJob {
  kind: "mail";
  mail_id: string;
}

export function parseMailJob(body: unknown): MailJob | null {
  const b = body as Partial<MailJob> | null;
  if (!b || b.kind !== "mail" || typeof b.mail_id !== "string") return null;
  return { kind: "mail", mail_id: b.mail_id };
}

export function isMailJob(body: unknown): boolean {
  return (body as { kind?: unknown } | null)?.kind === "mail";
}

/**
 * The outbox row of `mail`, as a batch statement. With `when`, the row is written only if that
 * condition holds when the batch runs (an invitation refused at its cap mails nothing).
 */
export function outboxInsert(db: Database, mail: OutgoingMail, at = nowMs(), when?: SQL): { id: string; insert: BatchItem } {
  const row: typeof mailOutbox.$inferSelect = {
    id: newId("mail"),
    toAddress: mail.to,
    toNormalized: normalizeEmail(mail.to),
    template: mail.template,
    subject: mail.subject,
    text: mail.text,
    status: "pending",
    attempts: 0,
    provider: null,
    lastError: null,
    createdAt: at,
    sentAt: null,
  };
  return { id: row.id, insert: when ? insertWhen(db, mailOutbox, row, when) : db.insert(mailOutbox).values(row) };
}

export async function enqueueMail(queue: Queue<unknown>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await queue.sendBatch(ids.map((id) => ({ body: { kind: "mail", mail_id: id } satisfies MailJob, contentType: "json" as const })));
}

/** Cron job: re-enqueues mail still pending long after it was written (its queue send was lost). */
export async function requeueOverdueMail(db: Database, queue: Queue<unknown>, overdueMs = 15 * 60_000, limit = 100): Promise<number> {
  const overdue = await db
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.status, "pending"), lt(mailOutbox.createdAt, nowMs() - overdueMs)))
    .limit(limit)
    .all();
  await enqueueMail(queue, overdue.map((m) => m.id));
  return overdue.length;
}
