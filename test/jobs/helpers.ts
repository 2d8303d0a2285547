import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

/** Runs the Worker's real `scheduled` handler for one cron expression of wrangler.toml. */
export async function runCron(cron: string) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

export async function rows(sql: string, ...binds: unknown[]) {
  return (await env.DB.prepare(sql).bind(...binds).all()).results as Record<string, any>[];
}
