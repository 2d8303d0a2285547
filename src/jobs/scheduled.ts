/**
 * Cron Trigger entry: each cron expression in wrangler.toml maps to the jobs it runs, here and
 * nowhere else. Jobs run independently: one failing does not stop the others, and each logs.
 */
import type { Bindings } from "../env";
import { createLogger, describeError } from "../lib/logger";

export type ScheduledJob = (env: Bindings, scheduledTime: number) => Promise<unknown>;

/** Cron expression (exactly as in wrangler.toml `[triggers]`) → named jobs. */
export const CRON_JOBS: Record<string, Record<string, ScheduledJob>> = {
  "*/5 * * * *": {},
  "7 * * * *": {},
  "17 3 * * *": {},
};

export async function handleScheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  const logger = createLogger({ cron: controller.cron });
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
