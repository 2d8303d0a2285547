/**
 * The webhook delivery consumer. Each queue message is one attempt at one `webhook_messages` row:
 *
 * - The attempt is claimed first with a conditional UPDATE (`attempts < n`), so a queue message
 *   delivered twice (Queues is at-least-once), a manual retry racing a scheduled one, or a
 *   re-enqueue never sends the same attempt twice.
 * - 2xx: delivered. 410: the receiver asked us to stop; the endpoint is disabled (audited).
 *   Anything else (other status, timeout, network error): `retry({delaySeconds})` on a Svix-like
 *   schedule; after the last attempt Queues moves the message to the dead-letter queue, whose
 *   consumer records it failed.
 * - Every attempt is recorded (time, status, duration, first 2 KiB of the answer) and each message
 *   is acked or retried on its own, never the batch as a whole.
 */
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { auditEntry, SYSTEM_ACTOR } from "../audit/record";
import { loadConfig, type Config } from "../config";
import { createDb, runBatch, type BatchItem, type Database } from "../db/client";
import { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import type { Bindings } from "../env";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { createLogger, describeError, logLevelOf, type Logger } from "../lib/logger";
import { decryptSecret } from "../lib/secrets";
import { sealedAt } from "../db/sealed";
import { enqueueDeliveries, parseDeliveryJob } from "./messages";
import { postWebhook, type AttemptOutcome } from "./send";
import { livekitWebhookHeaders } from "./livekit-format";
import { livekitKeyPair } from "../livekit-keys/service";
import { webhookHeaders } from "./signing";
import { webhookUrlProblem } from "./url";

/**
 * Delay before retry n+1 after attempt n fails (seconds): 5 s, 1 min, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h: nine attempts over about 27.6 hours. Queues caps a delay at 12 h. The length must
 * equal wrangler.toml's `max_retries` (8) so that the attempt after the last delay is the one
 * Queues dead-letters.
 */
export const RETRY_DELAYS_SECONDS = [5, 60, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;
export const MAX_QUEUE_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** An endpoint failing without a single success for this long is disabled by the health job. */
export const FAILING_ENDPOINT_DISABLE_AFTER_MS = 5 * 24 * 3600_000;

type Endpoint = typeof webhookEndpoints.$inferSelect;
type MessageRow = typeof webhookMessages.$inferSelect;

/** Webhook URLs often carry a secret in their path or query; audit entries keep only the origin. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

/**
 * Cron job: re-enqueues pending messages whose next attempt is long overdue: the queue send was
 * lost (a failure after the row was written). The attempt claim makes a duplicate harmless.
 */
export async function requeueOverdueMessages(env: Bindings, overdueMs = 15 * 60_000, limit = 100): Promise<number> {
  const db = createDb(env.DB);
  const overdue = await db
    .select({ id: webhookMessages.id, attempts: webhookMessages.attempts })
    .from(webhookMessages)
    .where(and(eq(webhookMessages.status, "pending"), lt(webhookMessages.nextAttemptAt, nowMs() - overdueMs)))
    .limit(limit)
    .all();
  await enqueueDeliveries(env.WEBHOOK_QUEUE, overdue.map((m) => ({ message_id: m.id, base_attempts: m.attempts })));
  return overdue.length;
}

/** The secrets that sign right now: the current one, and the previous one during a rotation. */
export async function signingSecrets(endpoint: Endpoint, config: Config, at: number): Promise<string[]> {
  const secrets = [await decryptSecret(endpoint.secretEncrypted, config.encryptionKeys, sealedAt(webhookEndpoints.secretEncrypted, endpoint.id))];
  if (endpoint.previousSecretEncrypted && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > at) {
    secrets.push(await decryptSecret(endpoint.previousSecretEncrypted, config.encryptionKeys, sealedAt(webhookEndpoints.previousSecretEncrypted, endpoint.id)));
  }
  return secrets;
}

function attemptInsert(db: Database, message: MessageRow, attempt: number, outcome: AttemptOutcome, at: number): BatchItem {
  return db.insert(webhookAttempts).values({
    id: newId("webhookAttempt"),
    messageId: message.id,
    endpointId: message.endpointId,
    attempt,
    statusCode: outcome.statusCode,
    durationMs: outcome.durationMs,
    responseBody: outcome.responseBody,
    error: outcome.error,
    createdAt: at,
  });
}

function disableEndpoint(db: Database, endpoint: Endpoint, reason: string, at: number): BatchItem[] {
  return [
    db
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason, updatedAt: at })
      .where(eq(webhookEndpoints.id, endpoint.id)),
    auditEntry(
      db,
      SYSTEM_ACTOR,
      {
        action: "webhook_endpoint.disabled",
        resourceType: "webhook_endpoint",
        resourceId: endpoint.id,
        orgId: endpoint.orgId,
        projectId: endpoint.projectId,
        metadata: { reason, url_origin: urlOrigin(endpoint.url) },
      },
      at,
    ),
  ];
}

async function attemptDelivery(db: Database, config: Config, message: MessageRow, endpoint: Endpoint, at: number): Promise<AttemptOutcome> {
  // Re-checked at send time: the rules may have tightened since the endpoint was saved.
  const problem = webhookUrlProblem(endpoint.url, config.webhookAllowPrivateUrls);
  if (problem) return { statusCode: null, durationMs: 0, responseBody: null, error: `URL refused: ${problem}` };
  if (endpoint.format === "livekit") {
    const key = await livekitKeyPair({ db, config }, endpoint.projectId, endpoint.livekitKeyId ?? "");
    if (!key) return { statusCode: null, durationMs: 0, responseBody: null, error: "The endpoint's LiveKit key was deleted; not sent." };
    // A fresh token per attempt: LiveKit's receivers accept one for five minutes only.
    return postWebhook(endpoint.url, await livekitWebhookHeaders(key, message.payload), message.payload);
  }
  const secrets = await signingSecrets(endpoint, config, at);
  const headers = await webhookHeaders(secrets, message.id, Math.floor(at / 1000), message.payload);
  return postWebhook(endpoint.url, headers, message.payload);
}

async function deliverOne(db: Database, config: Config, queueMessage: Message<unknown>, logger: Logger): Promise<void> {
  const job = parseDeliveryJob(queueMessage.body);
  if (!job) {
    logger.error("webhook_job_malformed", { queue_message_id: queueMessage.id });
    queueMessage.ack();
    return;
  }
  const attempt = job.base_attempts + queueMessage.attempts;
  const at = nowMs();
  const message = await db
    .update(webhookMessages)
    .set({ attempts: attempt, lastAttemptAt: at, nextAttemptAt: null })
    .where(and(eq(webhookMessages.id, job.message_id), eq(webhookMessages.status, "pending"), lt(webhookMessages.attempts, attempt)))
    .returning()
    .get();
  if (!message) {
    // Already attempted (a duplicate or superseded queue message), delivered, or failed.
    queueMessage.ack();
    return;
  }
  const endpoint = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, message.endpointId)).get();
  if (!endpoint || endpoint.deletedAt !== null || !endpoint.enabled) {
    const outcome = { statusCode: null, durationMs: 0, responseBody: null, error: "Endpoint is disabled or deleted; not sent." };
    await db.batch([
      attemptInsert(db, message, attempt, outcome, at),
      db.update(webhookMessages).set({ status: "failed" }).where(eq(webhookMessages.id, message.id)),
    ]);
    queueMessage.ack();
    return;
  }

  const outcome = await attemptDelivery(db, config, message, endpoint, at);
  const done = nowMs();
  const statements: BatchItem[] = [attemptInsert(db, message, attempt, outcome, done)];
  const status = outcome.statusCode;
  if (status !== null && status >= 200 && status < 300) {
    statements.push(
      db.update(webhookMessages).set({ status: "delivered", deliveredAt: done }).where(eq(webhookMessages.id, message.id)),
      db.update(webhookEndpoints).set({ failingSince: null }).where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.failingSince} IS NOT NULL`)),
    );
    await runBatch(db, statements);
    queueMessage.ack();
    return;
  }
  if (status === 410) {
    statements.push(
      db.update(webhookMessages).set({ status: "failed" }).where(eq(webhookMessages.id, message.id)),
      ...disableEndpoint(db, endpoint, "The endpoint answered 410 Gone.", done),
    );
    await runBatch(db, statements);
    queueMessage.ack();
    return;
  }
  // The schedule follows the message's own attempt number, so a re-enqueued message keeps its place.
  const final = attempt >= MAX_QUEUE_ATTEMPTS;
  const delaySeconds = RETRY_DELAYS_SECONDS[Math.min(attempt, RETRY_DELAYS_SECONDS.length) - 1]!;
  // Queues dead-letters only when its own count is spent; a final attempt that Queues would still
  // retry (a manual resend, a re-enqueued message) is recorded failed here instead.
  const deadLetter = final && queueMessage.attempts >= MAX_QUEUE_ATTEMPTS;
  statements.push(
    db
      .update(webhookMessages)
      .set(final ? { nextAttemptAt: null, ...(deadLetter ? {} : { status: "failed" as const }) } : { nextAttemptAt: done + delaySeconds * 1000 })
      .where(eq(webhookMessages.id, message.id)),
    db.update(webhookEndpoints).set({ failingSince: done }).where(and(eq(webhookEndpoints.id, endpoint.id), isNull(webhookEndpoints.failingSince))),
  );
  await runBatch(db, statements);
  if (deadLetter) queueMessage.retry(); // no retries left: Queues moves it to the dead-letter queue
  else if (final) queueMessage.ack();
  else queueMessage.retry({ delaySeconds });
}

export async function consumeWebhookBatch(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  await Promise.all(
    batch.messages.map(async (m) => {
      try {
        await deliverOne(db, config, m, logger);
      } catch (error) {
        // Our own failure (D1 unavailable…), not the receiver's: try again later.
        logger.error("webhook_delivery_error", { queue_message_id: m.id, ...describeError(error) });
        m.retry({ delaySeconds: RETRY_DELAYS_SECONDS[0] });
      }
    }),
  );
}

/** Dead-letter consumer: the message exhausted its attempts; record it failed (unless delivered meanwhile). */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const db = createDb(env.DB);
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  for (const m of batch.messages) {
    const job = parseDeliveryJob(m.body);
    if (job) {
      await db
        .update(webhookMessages)
        .set({ status: "failed", nextAttemptAt: null })
        .where(and(eq(webhookMessages.id, job.message_id), eq(webhookMessages.status, "pending")));
      logger.warn("webhook_message_dead_lettered", { message_id: job.message_id });
    }
    m.ack();
  }
}

/** Cron job: disables endpoints that have failed continuously for more than five days. */
export async function disableFailingEndpoints(env: Bindings): Promise<number> {
  const db = createDb(env.DB);
  const at = nowMs();
  const failing = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.enabled, true),
        isNull(webhookEndpoints.deletedAt),
        lt(webhookEndpoints.failingSince, at - FAILING_ENDPOINT_DISABLE_AFTER_MS),
      ),
    )
    .limit(200)
    .all();
  await runBatch(db, failing.flatMap((e) => disableEndpoint(db, e, "Every delivery failed for more than 5 days.", at)));
  return failing.length;
}
