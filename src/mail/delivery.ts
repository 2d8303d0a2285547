/**
 * Mail delivery from the queue. Each queue message is one attempt at one outbox row, claimed with
 * a conditional UPDATE (`attempts < n`) so a message Queues delivers twice is sent once. A failed
 * attempt is retried with growing delays; after MAIL_MAX_ATTEMPTS the row is marked failed. In
 * production the text (it carries single-use tokens) is erased once the row is sent or failed; in
 * development it stays for the dev mailbox.
 */
import { and, eq, lt } from "drizzle-orm";
import { loadConfig, type Config } from "../config";
import { createDb, type Database } from "../db/client";
import { mailOutbox } from "../db/schema";
import type { Bindings } from "../env";
import { nowMs } from "../lib/clock";
import { createLogger, describeError, type Logger } from "../lib/logger";
import { parseMailJob } from "./outbox";
import { sendWithProvider } from "./providers";

/** Delay before attempt n+1 after attempt n fails (seconds); MAIL_MAX_ATTEMPTS attempts in all. */
export const MAIL_RETRY_DELAYS_SECONDS = [10, 60, 300, 1800] as const;
export const MAIL_MAX_ATTEMPTS = MAIL_RETRY_DELAYS_SECONDS.length + 1;

function finishedText(config: Config, text: string | null): string | null {
  return config.isProduction ? null : text;
}

async function deliverOne(db: Database, config: Config, message: Message<unknown>, logger: Logger): Promise<void> {
  const job = parseMailJob(message.body);
  if (!job) {
    logger.error("mail_job_malformed", { queue_message_id: message.id });
    message.ack();
    return;
  }
  const attempt = message.attempts;
  const row = await db
    .update(mailOutbox)
    .set({ attempts: attempt, provider: config.email.provider })
    .where(and(eq(mailOutbox.id, job.mail_id), eq(mailOutbox.status, "pending"), lt(mailOutbox.attempts, attempt)))
    .returning()
    .get();
  if (!row) {
    // Sent, failed, or this attempt was already made (a duplicate queue message).
    message.ack();
    return;
  }
  try {
    if (row.text === null) throw new Error("the message text is gone");
    await sendWithProvider(config.email, { id: row.id, to: row.toAddress, template: row.template, subject: row.subject, text: row.text }, logger);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const final = attempt >= MAIL_MAX_ATTEMPTS;
    await db
      .update(mailOutbox)
      .set(final ? { status: "failed", lastError: reason, text: finishedText(config, row.text) } : { lastError: reason })
      .where(eq(mailOutbox.id, row.id));
    logger.warn("mail_attempt_failed", { mail_id: row.id, template: row.template, attempt, final, error_message: reason });
    if (final) message.ack();
    else message.retry({ delaySeconds: MAIL_RETRY_DELAYS_SECONDS[attempt - 1] ?? MAIL_RETRY_DELAYS_SECONDS.at(-1) });
    return;
  }
  await db
    .update(mailOutbox)
    .set({ status: "sent", sentAt: nowMs(), lastError: null, text: finishedText(config, row.text) })
    .where(eq(mailOutbox.id, row.id));
  message.ack();
}

export async function consumeMail(messages: readonly Message<unknown>[], env: Bindings): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  const logger = createLogger({ queue: "mail" });
  await Promise.all(
    messages.map(async (m) => {
      try {
        await deliverOne(db, config, m, logger);
      } catch (error) {
        logger.error("mail_delivery_error", { queue_message_id: m.id, ...describeError(error) });
        m.retry({ delaySeconds: MAIL_RETRY_DELAYS_SECONDS[0] });
      }
    }),
  );
}

/** Mail that reached the dead-letter queue (its retries were spent on our own failures): failed. */
export async function consumeMailDeadLetters(messages: readonly Message<unknown>[], env: Bindings): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  for (const m of messages) {
    const job = parseMailJob(m.body);
    if (job) {
      const row = await db.select({ text: mailOutbox.text }).from(mailOutbox).where(eq(mailOutbox.id, job.mail_id)).get();
      await db
        .update(mailOutbox)
        .set({ status: "failed", lastError: "dead-lettered", text: finishedText(config, row?.text ?? null) })
        .where(and(eq(mailOutbox.id, job.mail_id), eq(mailOutbox.status, "pending")));
    }
    m.ack();
  }
}
