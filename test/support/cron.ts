import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { nowMs } from "../../src/lib/clock";

/** Runs the Worker's real `scheduled` handler for one cron expression of wrangler.toml, at the (test) clock's now. */
export async function runCron(cron: string) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: nowMs() }), env, ctx);
  await waitOnExecutionContext(ctx);
}
