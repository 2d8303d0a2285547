/**
 * Recover: re-send every failed message of one endpoint created in [since, until] (until = when
 * recovery was asked for, so messages failing again later are not picked up twice). The request
 * re-queues the first batch itself; when there may be more, it hands a continuation (the keyset
 * cursor of the last message re-queued, and who asked) to the queue, and each continuation
 * re-queues one more bounded batch and hands on the next. The work scales with the backlog, a
 * batch at a time, with no fixed cap and no request that runs long. Every step is audited in the
 * db.batch() of its change, listing the messages it re-queued, as the asker.
 */
import { and, asc, eq, gt, gte, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { auditEntryWhen, SYSTEM_ACTOR, type AuditActor } from "../audit/record";
import { tenantOf, type Tenant } from "../authz/access";
import { createDb, type Database } from "../db/client";
import { webhookEndpoints, webhookMessages } from "../db/schema";
import type { Deps } from "../deps";
import type { Bindings } from "../env";
import { nowMs, toIso } from "../lib/clock";
import { validationFailed } from "../lib/errors";
import { createLogger, describeError, logLevelOf } from "../lib/logger";
import { enqueueDeliveries } from "./messages";
import { enabledEndpoint } from "./service";

/** Messages re-queued per step: one D1 read, one guarded UPDATE and one Queues sendBatch. */
export const RECOVER_BATCH_SIZE = 100;

/** What a continuation carries through the queue (`kind` tells it from deliveries and mail). */
export interface RecoverJob {
  kind: "webhook_recover";
  project_id: string;
  endpoint_id: string;
  since: number;
  until: number;
  /** The last message re-queued so far (created_at, id): the next step starts after it. */
  after: { created_at: number; id: string };
  batch_size: number;
  /** Who asked for the recovery: each continuation's audit entry names them (absent in jobs queued before it was carried). */
  actor?: AuditActor;
}

export function isRecoverJob(body: unknown): body is RecoverJob {
  const b = body as Partial<RecoverJob> | null;
  return !!b && b.kind === "webhook_recover" && typeof b.endpoint_id === "string" && typeof b.project_id === "string";
}

export interface Step {
  projectId: string;
  endpointId: string;
  since: number;
  until: number;
  after: RecoverJob["after"] | null;
  batchSize: number;
  actor: AuditActor;
}

/** The ids of the next batch of failed messages of the step's window, oldest first (the order of `webhook_messages_endpoint_status_idx`). */
export function nextFailedQuery(db: Database, step: Omit<Step, "actor">) {
  const { after } = step;
  return db
    .select({ id: webhookMessages.id })
    .from(webhookMessages)
    .where(
      and(
        eq(webhookMessages.endpointId, step.endpointId),
        eq(webhookMessages.projectId, step.projectId),
        // Endpoint, then status, then time: the index's columns, so the walk reads only this endpoint's failed messages.
        sql`${webhookMessages.status} = 'failed'`,
        gte(webhookMessages.createdAt, step.since),
        lte(webhookMessages.createdAt, step.until),
        after ? or(gt(webhookMessages.createdAt, after.created_at), and(eq(webhookMessages.createdAt, after.created_at), gt(webhookMessages.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(webhookMessages.createdAt), asc(webhookMessages.id))
    .limit(step.batchSize);
}

/**
 * One step: the next batch back to pending, and its audit entry placed before it. The batch is
 * chosen inside the UPDATE (no id list, so no bound-parameter limit, and nothing changes between
 * choosing and writing), and the entry lists the same pick, so it names exactly the messages the
 * step re-queued. The request's step is always recorded (a recovery that found nothing was still
 * asked for); a continuation's only when it re-queued something.
 */
async function requeueNextBatch(db: Database, step: Step, at: number, tenant: Tenant, first: boolean): Promise<Requeued> {
  const pick = nextFailedQuery(db, step);
  const [, requeued] = await db.batch([
    auditEntryWhen(
      db,
      step.actor,
      {
        action: first ? "webhook_endpoint.recovered" : "webhook_endpoint.recovery_continued",
        resourceType: "webhook_endpoint",
        resourceId: step.endpointId,
        ...tenantOf(tenant),
      },
      first ? sql`1` : sql`EXISTS ${pick}`,
      at,
      sql`json_object('since', ${toIso(step.since)}, 'until', ${toIso(step.until)}, 'message_ids', (SELECT json_group_array(picked.id) FROM ${pick} AS picked))`,
    ),
    db
      .update(webhookMessages)
      .set({ status: "pending", nextAttemptAt: at })
      .where(and(inArray(webhookMessages.id, pick), sql`${webhookMessages.status} = 'failed'`))
      .returning({ id: webhookMessages.id, attempts: webhookMessages.attempts, createdAt: webhookMessages.createdAt }),
  ]);
  return requeued;
}

type Requeued = { id: string; attempts: number; createdAt: number }[];

/** Enqueues what was re-queued, then the continuation when the batch was full. Returns whether there is more. */
async function handOn(queue: Queue<unknown>, step: Step, requeued: Requeued) {
  await enqueueDeliveries(queue, requeued.map((m) => ({ message_id: m.id, base_attempts: m.attempts })));
  if (requeued.length < step.batchSize) return false;
  // RETURNING has no order: the cursor is the batch's last message by (created_at, id).
  const last = requeued.reduce((a, b) => (b.createdAt > a.createdAt || (b.createdAt === a.createdAt && b.id > a.id) ? b : a));
  const job: RecoverJob = {
    kind: "webhook_recover",
    project_id: step.projectId,
    endpoint_id: step.endpointId,
    since: step.since,
    until: step.until,
    after: { created_at: last.createdAt, id: last.id },
    batch_size: step.batchSize,
    actor: step.actor,
  };
  await queue.send(job, { contentType: "json" });
  return true;
}

/**
 * Re-sends the endpoint's failed messages created since `since` (RFC 3339, not in the future).
 * Refused (409) while the endpoint is disabled, like a single retry. The dashboard calls it too.
 */
export async function recoverFailedMessages(
  deps: Pick<Deps, "db" | "queue">,
  actor: AuditActor,
  tenant: Tenant,
  endpointId: string,
  input: { since: string },
  options: { batchSize?: number } = {},
) {
  await enabledEndpoint(deps, tenant.projectId, endpointId, "recovering");
  const at = nowMs();
  const since = Date.parse(input.since);
  if (Number.isNaN(since) || since > at) {
    throw validationFailed("Invalid request: since: must be a time in the past", [{ path: "since", message: "Must be a time in the past" }]);
  }
  const step: Step = { projectId: tenant.projectId, endpointId, since, until: at, after: null, batchSize: options.batchSize ?? RECOVER_BATCH_SIZE, actor };
  const requeued = await requeueNextBatch(deps.db, step, at, tenant, true);
  const more = await handOn(deps.queue, step, requeued);
  return { endpoint_id: endpointId, since: toIso(since), until: toIso(at), queued: requeued.length, more };
}

/** One continuation: the next batch, unless the endpoint was disabled or deleted meanwhile. */
async function continueRecovery(db: Database, queue: Queue<unknown>, job: RecoverJob): Promise<void> {
  const endpoint = await db
    .select({ orgId: webhookEndpoints.orgId })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, job.endpoint_id), eq(webhookEndpoints.projectId, job.project_id), eq(webhookEndpoints.enabled, true), isNull(webhookEndpoints.deletedAt)))
    .get();
  if (!endpoint) return;
  const step: Step = {
    projectId: job.project_id,
    endpointId: job.endpoint_id,
    since: job.since,
    until: job.until,
    after: job.after,
    batchSize: job.batch_size,
    actor: job.actor ?? SYSTEM_ACTOR,
  };
  const tenant: Tenant = { projectId: job.project_id, orgId: endpoint.orgId };
  await handOn(queue, step, await requeueNextBatch(db, step, nowMs(), tenant, false));
}

/**
 * Queue consumer for continuations. A step that fails is retried; its UPDATE touches only messages
 * still failed, and any it re-queued without enqueuing are pending, which the overdue-message cron
 * re-enqueues.
 */
export async function consumeRecoverJobs(messages: readonly Message<unknown>[], env: Bindings): Promise<void> {
  const db = createDb(env.DB);
  const logger = createLogger({ queue: "webhook_recover" }, logLevelOf(env.LOG_LEVEL));
  for (const m of messages) {
    try {
      await continueRecovery(db, env.WEBHOOK_QUEUE, m.body as RecoverJob);
      m.ack();
    } catch (error) {
      logger.error("webhook_recover_error", { queue_message_id: m.id, ...describeError(error) });
      m.retry({ delaySeconds: 5 });
    }
  }
}
