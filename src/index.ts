/**
 * The Worker's entry: HTTP (`fetch`), the webhook delivery queue (`queue`), Cron Triggers
 * (`scheduled`) and the Durable Object classes wrangler binds.
 */
import { createApp } from "./app";
import type { Bindings } from "./env";
import { handleQueueBatch } from "./jobs/queue";
import { handleScheduled } from "./jobs/scheduled";

export { RateLimiter } from "./rate-limit/rate-limiter-do";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;
