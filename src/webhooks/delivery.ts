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
import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { auditEntry, SYSTEM_ACTOR } from "../audit/record";
import { loadConfig, type Config } from "../config";
import { createDb, runBatch, type BatchItem, type Database } from "../db/client";
import { insertRows, jsonTable, jsonValues } from "../db/json-rows";
import { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import type { Bindings } from "../env";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { afterPosition } from "../lib/pagination";
import { createLogger, describeError, logLevelOf } from "../lib/logger";
import { decryptSecret } from "../lib/secrets";
import { sealedAt } from "../db/sealed";
import { yieldToOtherWork } from "../lib/yield";
import { enqueueDeliveries, parseDeliveryJob } from "./messages";
import { postWebhook, type AttemptOutcome } from "./send";
import { livekitWebhookHeaders } from "./livekit-format";
import { livekitKeyPair } from "../livekit-keys/service";
import type { LivekitKeyPair } from "../livekit/jwt";
import { runPooled } from "../lib/pool";
import { webhookHeaders } from "./signing";
import { webhookUrlProblem } from "./url";

/** Deliveries in flight at once per consumer invocation (Workers allow six open connections). */
export const DELIVERY_CONCURRENCY = 6;
/** …and to any one endpoint. */
export const DELIVERY_CONCURRENCY_PER_ENDPOINT = 2;

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
 * Pages through the whole overdue backlog (keyset on the (status, next_attempt_at) index) until it
 * is done or the wall-clock budget is spent.
 */
export async function requeueOverdueMessages(env: Bindings, overdueMs = 15 * 60_000, opts: { pageSize?: number; budgetMs?: number } = {}): Promise<number> {
  const db = createDb(env.DB);
  const pageSize = opts.pageSize ?? 500;
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  const before = nowMs() - overdueMs;
  let after: { at: number; id: string } | null = null;
  let requeued = 0;
  while (Date.now() < deadline) {
    const overdue: { id: string; attempts: number; at: number | null }[] = await db
      .select({ id: webhookMessages.id, attempts: webhookMessages.attempts, at: webhookMessages.nextAttemptAt })
      .from(webhookMessages)
      .where(
        and(
          eq(webhookMessages.status, "pending"),
          lt(webhookMessages.nextAttemptAt, before),
          afterPosition(after, webhookMessages.nextAttemptAt, webhookMessages.id),
        ),
      )
      .orderBy(asc(webhookMessages.nextAttemptAt), asc(webhookMessages.id))
      .limit(pageSize)
      .all();
    await enqueueDeliveries(env.WEBHOOK_QUEUE, overdue.map((m) => ({ message_id: m.id, base_attempts: m.attempts })));
    requeued += overdue.length;
    const last: (typeof overdue)[number] | undefined = overdue[overdue.length - 1];
    if (!last || overdue.length < pageSize) break;
    after = { at: last.at!, id: last.id };
    await yieldToOtherWork();
  }
  return requeued;
}

/** The secrets that sign right now: the current one, and the previous one during a rotation. */
export async function signingSecrets(endpoint: Endpoint, config: Config, at: number): Promise<string[]> {
  const secrets = [await decryptSecret(endpoint.secretEncrypted, config.encryptionKeys, sealedAt(webhookEndpoints.secretEncrypted, endpoint.id))];
  if (endpoint.previousSecretEncrypted && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > at) {
    secrets.push(await decryptSecret(endpoint.previousSecretEncrypted, config.encryptionKeys, sealedAt(webhookEndpoints.previousSecretEncrypted, endpoint.id)));
  }
  return secrets;
}

type AttemptRow = typeof webhookAttempts.$inferInsert;

function attemptRow(message: MessageRow, attempt: number, outcome: AttemptOutcome, at: number): AttemptRow {
  return {
    id: newId("webhookAttempt"),
    messageId: message.id,
    endpointId: message.endpointId,
    attempt,
    statusCode: outcome.statusCode,
    durationMs: outcome.durationMs,
    responseBody: outcome.responseBody,
    error: outcome.error,
    createdAt: at,
  };
}

/**
 * What an attempt changes on its message; null leaves the column as it is. (The claim already
 * set `next_attempt_at` to null, so a message that is done needs no change there.)
 */
interface MessageChange {
  id: string;
  status: MessageRow["status"] | null;
  deliveredAt: number | null;
  nextAttemptAt: number | null;
}

/**
 * Every message change of a batch in one UPDATE … FROM. The claim left `next_attempt_at` null; a
 * manual retry while the attempt was out set it again (and queued the next attempt), so then the
 * message stays `pending` at the retry's time whatever this attempt's outcome: the retry is sent.
 */
function messageUpdates(db: Database, changes: MessageChange[]): BatchItem[] {
  if (changes.length === 0) return [];
  const change = jsonTable("change", ["id", "status", "deliveredAt", "nextAttemptAt"], changes);
  const { status, deliveredAt, nextAttemptAt } = change.columns;
  const retriedMeanwhile = sql`${webhookMessages.nextAttemptAt} IS NOT NULL`;
  return [
    db
      .update(webhookMessages)
      .set({
        status: sql`CASE WHEN ${retriedMeanwhile} THEN ${webhookMessages.status} ELSE coalesce(${status}, ${webhookMessages.status}) END`,
        deliveredAt: sql`coalesce(${deliveredAt}, ${webhookMessages.deliveredAt})`,
        nextAttemptAt: sql`coalesce(${webhookMessages.nextAttemptAt}, ${nextAttemptAt})`,
      })
      .from(change.source)
      .where(eq(webhookMessages.id, change.columns.id)),
  ];
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

/**
 * What signs an endpoint's messages, read and decrypted once per endpoint per queue batch (not per
 * message): its Standard Webhooks secrets, or its LiveKit key pair.
 */
interface Credentials {
  secrets(endpoint: Endpoint): Promise<string[]>;
  livekitKey(endpoint: Endpoint): Promise<LivekitKeyPair | null>;
}

function batchCredentials(db: Database, config: Config, at: number): Credentials {
  const secrets = new Map<string, Promise<string[]>>();
  const keys = new Map<string, Promise<LivekitKeyPair | null>>();
  const once = <T>(cache: Map<string, Promise<T>>, id: string, load: () => Promise<T>) => {
    let value = cache.get(id);
    if (!value) cache.set(id, (value = load()));
    return value;
  };
  return {
    secrets: (e) => once(secrets, e.id, () => signingSecrets(e, config, at)),
    livekitKey: (e) => once(keys, e.id, () => livekitKeyPair({ db, config }, e.projectId, e.livekitKeyId ?? "")),
  };
}

async function attemptDelivery(config: Config, message: MessageRow, endpoint: Endpoint, credentials: Credentials, at: number): Promise<AttemptOutcome> {
  // Re-checked at send time: the rules may have tightened since the endpoint was saved.
  const problem = webhookUrlProblem(endpoint.url, config.webhookAllowPrivateUrls);
  if (problem) return { statusCode: null, durationMs: 0, responseBody: null, error: `URL refused: ${problem}` };
  if (endpoint.format === "livekit") {
    const key = await credentials.livekitKey(endpoint);
    if (!key) return { statusCode: null, durationMs: 0, responseBody: null, error: "The endpoint's LiveKit key was deleted; not sent." };
    // A fresh token per attempt: LiveKit's receivers accept one for five minutes only.
    return postWebhook(endpoint.url, await livekitWebhookHeaders(key, message.payload), message.payload);
  }
  const headers = await webhookHeaders(await credentials.secrets(endpoint), message.id, Math.floor(at / 1000), message.payload);
  return postWebhook(endpoint.url, headers, message.payload);
}

/** What to tell Queues about one message once its attempt is recorded. */
type Settle = { ack: true } | { retry: { delaySeconds?: number } | undefined };

interface Claim {
  queueMessage: Message<unknown>;
  attempt: number;
  message: MessageRow;
}

/**
 * What one attempt's outcome does: its attempt record and message change (written with the whole
 * batch's in one statement each), rarer statements of its own (disabling the endpoint), its
 * endpoint's failing-since change (kept apart: a batch writes only the last one per endpoint,
 * which leaves the endpoint as the whole sequence would), and what to tell Queues afterwards.
 */
interface Recorded {
  attempt: AttemptRow;
  change: MessageChange;
  statements: BatchItem[];
  endpointUpdate?: BatchItem;
  settle: Settle;
}

const unchanged = { status: null, deliveredAt: null, nextAttemptAt: null };

function recordOutcome(db: Database, claim: Claim, endpoint: Endpoint, outcome: AttemptOutcome, done: number, disabled: Set<string>): Recorded {
  const { message, attempt, queueMessage } = claim;
  const record = attemptRow(message, attempt, outcome, done);
  const status = outcome.statusCode;
  if (status !== null && status >= 200 && status < 300) {
    const endpointUpdate = db.update(webhookEndpoints).set({ failingSince: null }).where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.failingSince} IS NOT NULL`));
    return { attempt: record, change: { ...unchanged, id: message.id, status: "delivered", deliveredAt: done }, statements: [], endpointUpdate, settle: { ack: true } };
  }
  if (status === 410) {
    // Several messages of one batch may get the 410: the endpoint is disabled (and audited) once.
    const statements = disabled.has(endpoint.id) ? [] : disableEndpoint(db, endpoint, "The endpoint answered 410 Gone.", done);
    disabled.add(endpoint.id);
    return { attempt: record, change: { ...unchanged, id: message.id, status: "failed" }, statements, settle: { ack: true } };
  }
  // The schedule follows the message's own attempt number, so a re-enqueued message keeps its place.
  const final = attempt >= MAX_QUEUE_ATTEMPTS;
  const delaySeconds = RETRY_DELAYS_SECONDS[Math.min(attempt, RETRY_DELAYS_SECONDS.length) - 1]!;
  // Queues dead-letters only when its own count is spent; a final attempt that Queues would still
  // retry (a manual resend, a re-enqueued message) is recorded failed here instead.
  const deadLetter = final && queueMessage.attempts >= MAX_QUEUE_ATTEMPTS;
  const change: MessageChange = final
    ? { ...unchanged, id: message.id, status: deadLetter ? null : "failed" }
    : { ...unchanged, id: message.id, nextAttemptAt: done + delaySeconds * 1000 };
  const endpointUpdate = db.update(webhookEndpoints).set({ failingSince: done }).where(and(eq(webhookEndpoints.id, endpoint.id), isNull(webhookEndpoints.failingSince)));
  // No retries left: Queues moves it to the dead-letter queue.
  if (deadLetter) return { attempt: record, change, statements: [], endpointUpdate, settle: { retry: undefined } };
  return { attempt: record, change, statements: [], endpointUpdate, settle: final ? { ack: true } : { retry: { delaySeconds } } };
}

/**
 * A batch's statements: every attempt record in one INSERT, every message change in one UPDATE,
 * the rarer statements, then each endpoint's last failing-since change.
 */
function batchStatements(db: Database, recorded: { claim: Claim; recorded: Recorded }[]): BatchItem[] {
  const lastEndpointUpdate = new Map<string, BatchItem>();
  for (const r of recorded) if (r.recorded.endpointUpdate) lastEndpointUpdate.set(r.claim.message.endpointId, r.recorded.endpointUpdate);
  return [
    ...insertRows(db, webhookAttempts, recorded.map((r) => r.recorded.attempt)),
    ...messageUpdates(db, recorded.map((r) => r.recorded.change)),
    ...recorded.flatMap((r) => r.recorded.statements),
    ...lastEndpointUpdate.values(),
  ];
}

function settle(queueMessage: Message<unknown>, s: Settle) {
  if ("ack" in s) queueMessage.ack();
  else queueMessage.retry(s.retry);
}

/**
 * The queue consumer. D1 round trips per queue batch, not per delivery:
 * 1. one `db.batch()` of two statements: the attempt claim of every message (one conditional
 *    UPDATE … FROM … RETURNING over the batch) and the endpoints of the batch's messages;
 * 2. the HTTP requests, concurrently;
 * 3. one `db.batch()` recording every attempt and its consequences, set-based (one INSERT of the
 *    attempts, one UPDATE of the messages; falling back to one batch per message if that fails,
 *    so one bad row cannot hold back the others).
 * Each queue message is then acked or retried on its own. A message is acked only after its
 * attempt is recorded, so a crash anywhere before means Queues redelivers it (at least once); the
 * claim means a redelivered attempt that was already made is not sent again.
 */
export async function consumeWebhookBatch(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  const jobs: { queueMessage: Message<unknown>; messageId: string; attempt: number }[] = [];
  for (const m of batch.messages) {
    const job = parseDeliveryJob(m.body);
    if (!job) {
      logger.error("webhook_job_malformed", { queue_message_id: m.id });
      m.ack();
      continue;
    }
    jobs.push({ queueMessage: m, messageId: job.message_id, attempt: job.base_attempts + m.attempts });
  }
  if (jobs.length === 0) return;
  const retryAll = (list: { queueMessage: Message<unknown> }[], error: unknown) => {
    // Our own failure (D1 unavailable…), not the receiver's: try again later.
    logger.error("webhook_delivery_error", { messages: list.length, ...describeError(error) });
    for (const j of list) j.queueMessage.retry({ delaySeconds: RETRY_DELAYS_SECONDS[0] });
  };

  const at = nowMs();
  // Several queue messages for one row in a batch (Queues delivered one twice, a manual resend met
  // a scheduled retry): the highest attempt number claims it, the others are superseded.
  const attemptOf = new Map<string, number>();
  for (const j of jobs) attemptOf.set(j.messageId, Math.max(j.attempt, attemptOf.get(j.messageId) ?? 0));
  const wanted = jsonTable("wanted", ["id", "attempt"], [...attemptOf].map(([id, attempt]) => ({ id, attempt })));
  let claimed: MessageRow[];
  let endpointRows: Endpoint[];
  try {
    [claimed, endpointRows] = await db.batch([
      db
        .update(webhookMessages)
        .set({ attempts: wanted.columns.attempt, lastAttemptAt: at, nextAttemptAt: null })
        .from(wanted.source)
        // `+status`: the status is checked on the rows found by id, never used to find them (left
        // to itself, SQLite may walk every tenant's pending messages by the status index instead).
        .where(and(eq(webhookMessages.id, wanted.columns.id), eq(sql`+${webhookMessages.status}`, "pending"), lt(webhookMessages.attempts, wanted.columns.attempt)))
        .returning(),
      db
        .select()
        .from(webhookEndpoints)
        .where(inArray(webhookEndpoints.id, db.select({ id: webhookMessages.endpointId }).from(webhookMessages).where(inArray(webhookMessages.id, jsonValues([...attemptOf.keys()]))))),
    ]);
  } catch (error) {
    retryAll(jobs, error);
    return;
  }
  const endpoints = new Map(endpointRows.map((e) => [e.id, e]));
  const unclaimed = new Map(claimed.map((m) => [m.id, m]));
  const claims: Claim[] = [];
  for (const j of jobs) {
    const message = unclaimed.get(j.messageId);
    // Already attempted (a duplicate or superseded queue message), delivered, or failed.
    if (!message || message.attempts !== j.attempt) {
      j.queueMessage.ack();
      continue;
    }
    unclaimed.delete(j.messageId);
    claims.push({ queueMessage: j.queueMessage, attempt: j.attempt, message });
  }

  // Secrets and LiveKit keys read and decrypted once per endpoint, not per message.
  const credentials = batchCredentials(db, config, at);
  const disabled = new Set<string>();
  // Sent DELIVERY_CONCURRENCY at a time (a Worker holds six connections; a request queued behind
  // them would time out unsent) and at most two to any one endpoint, so a hanging receiver slows
  // only its own messages.
  const recorded = await runPooled(
    claims,
    { limit: DELIVERY_CONCURRENCY, perKey: DELIVERY_CONCURRENCY_PER_ENDPOINT, key: (claim) => claim.message.endpointId },
    async (claim) => {
      const endpoint = endpoints.get(claim.message.endpointId);
      if (!endpoint || endpoint.deletedAt !== null || !endpoint.enabled) {
        const outcome = { statusCode: null, durationMs: 0, responseBody: null, error: "Endpoint is disabled or deleted; not sent." };
        const recorded: Recorded = { attempt: attemptRow(claim.message, claim.attempt, outcome, at), change: { ...unchanged, id: claim.message.id, status: "failed" }, statements: [], settle: { ack: true } };
        return { claim, recorded };
      }
      let outcome: AttemptOutcome;
      try {
        // Signed when it goes out, not when the batch began: a message may wait minutes behind a
        // slow receiver, and receivers refuse a `webhook-timestamp` older than five minutes.
        outcome = await attemptDelivery(config, claim.message, endpoint, credentials, nowMs());
      } catch (error) {
        // Ours (a secret that does not decrypt…), not the receiver's: logged, and recorded as a failed attempt.
        logger.error("webhook_attempt_error", { message_id: claim.message.id, ...describeError(error) });
        outcome = { statusCode: null, durationMs: 0, responseBody: null, error: "Not sent: internal error." };
      }
      return { claim, recorded: recordOutcome(db, claim, endpoint, outcome, nowMs(), disabled) };
    },
  );
  if (recorded.length === 0) return;
  try {
    await runBatch(db, batchStatements(db, recorded));
    for (const r of recorded) settle(r.claim.queueMessage, r.recorded.settle);
  } catch (error) {
    logger.warn("webhook_batch_write_failed", describeError(error));
    await Promise.all(
      recorded.map(async (r) => {
        try {
          await runBatch(db, batchStatements(db, [r]));
          settle(r.claim.queueMessage, r.recorded.settle);
        } catch (e) {
          retryAll([r.claim], e);
        }
      }),
    );
  }
}

/**
 * Dead-letter consumer: the message exhausted its attempts; record it failed, unless delivered
 * meanwhile or retried by hand since its last attempt (a retry sets `next_attempt_at`, which the
 * last attempt's claim had cleared).
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const db = createDb(env.DB);
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  for (const m of batch.messages) {
    const job = parseDeliveryJob(m.body);
    if (job) {
      await db
        .update(webhookMessages)
        .set({ status: "failed", nextAttemptAt: null })
        .where(and(eq(webhookMessages.id, job.message_id), eq(webhookMessages.status, "pending"), isNull(webhookMessages.nextAttemptAt)));
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
