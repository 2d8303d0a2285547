/**
 * Cron Trigger entry: each cron expression in wrangler.toml maps to the jobs it runs, here and
 * nowhere else. Jobs run independently: one failing does not stop the others, and each logs.
 */
import { createMonthlyInvoices } from "../billing/invoices";
import { loadConfig } from "../config";
import { createDb } from "../db/client";
import type { Bindings } from "../env";
import { nowMs } from "../lib/clock";
import { tearDownDeletedProjects } from "../projects/livekit-teardown";
import { createLogger, describeError, logLevelOf } from "../lib/logger";
import { requeueStoredEvents } from "../inbound/service";
import { closeStaleRoomSessions } from "../sessions/record";
import { closeStaleSessions } from "../sessions/timeouts";
import { HOUR_MS, rollUpDirtyHours } from "../usage/rollup";
import { disableFailingEndpoints, requeueOverdueMessages } from "../webhooks/delivery";
import { requeueOverdueMail } from "../mail/outbox";
import { cleanupExpired, cleanupPolicyOf } from "./cleanup";
import { reencryptSecrets } from "./reencrypt";

export type ScheduledJob = (env: Bindings, scheduledTime: number) => Promise<unknown>;

/** Cron expression (exactly as in wrangler.toml `[triggers]`) → named jobs. */
export const CRON_JOBS: Record<string, Record<string, ScheduledJob>> = {
  "*/5 * * * *": {
    /** LiveKit events stored but still unprocessed a minute later (their queue send was lost): enqueue them again, up to MAX_REQUEUES times. */
    requeue_livekit_events: (env) =>
      requeueStoredEvents({ db: createDb(env.DB), inboundQueue: env.INBOUND_QUEUE, logger: createLogger({ job: "requeue_livekit_events" }, logLevelOf(env.LOG_LEVEL)) }),
    /** Sessions whose leave and room end were both lost. */
    close_stale_participant_sessions: (env) => closeStaleSessions(createDb(env.DB), loadConfig(env).participantSessionTimeoutHours),
    /** Room lifetimes whose `room_finished` was lost: they end at their last participant's leave. */
    close_stale_room_sessions: (env) => closeStaleRoomSessions(createDb(env.DB), loadConfig(env).participantSessionTimeoutHours),
    /** Webhook messages whose queue send was lost. */
    requeue_overdue_webhook_messages: (env) => requeueOverdueMessages(env),
    /** Mail whose queue send was lost. */
    requeue_overdue_mail: (env) => requeueOverdueMail(createDb(env.DB), env.WEBHOOK_QUEUE),
    /** Egresses and ingresses of deleted projects that LiveKit could not be told about yet. */
    livekit_teardown: (env) => tearDownDeletedProjects(createDb(env.DB), loadConfig(env).livekit, createLogger({ job: "livekit_teardown" }, logLevelOf(env.LOG_LEVEL))),
  },
  "7 * * * *": {
    /** The hours that received usage since their last rollup (late usage included), and their days. */
    usage_rollup: (env) => rollUpDirtyHours(createDb(env.DB)),
    disable_failing_webhook_endpoints: (env) => disableFailingEndpoints(env),
    /** Last month's invoices, once its late usage is in (bounded batches; idempotent per org and month). */
    monthly_invoices: (env) =>
      createMonthlyInvoices(createDb(env.DB), {
        now: nowMs(),
        graceMs: (loadConfig(env).participantSessionTimeoutHours + 2) * HOUR_MS,
        logger: createLogger({ job: "monthly_invoices" }, logLevelOf(env.LOG_LEVEL)),
      }),
    /** Sealed secrets not yet under the keyring's primary key (a rotation in progress), a batch per run. */
    reencrypt_secrets: (env) => reencryptSecrets(createDb(env.DB), loadConfig(env).encryptionKeys),
  },
  "17 3 * * *": {
    ttl_cleanup: (env) => cleanupExpired(createDb(env.DB), cleanupPolicyOf(loadConfig(env), nowMs())),
    /** Catches up on whatever the hourly runs left (a long outage, a budget spent). */
    usage_rollup: (env) => rollUpDirtyHours(createDb(env.DB)),
  },
};

export async function handleScheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  const logger = createLogger({ cron: controller.cron }, logLevelOf(env.LOG_LEVEL));
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    logger.error("cron_unknown");
    return;
  }
  const results = await Promise.allSettled(
    Object.entries(jobs).map(async ([name, job]) => {
      const started = Date.now();
      const result = await job(env, controller.scheduledTime);
      logger.info("cron_job_done", { job: name, duration_ms: Date.now() - started, result });
    }),
  );
  results.forEach((r, i) => {
    if (r.status === "rejected") logger.error("cron_job_failed", { job: Object.keys(jobs)[i], ...describeError(r.reason) });
  });
}
