/**
 * Queue consumer entry: each queue this Worker consumes is dispatched by name to its handler.
 * A batch from an unknown queue is retried (never silently acked) and logged.
 */
import type { Bindings } from "../env";
import { createLogger } from "../lib/logger";
import { consumeDeadLetters, consumeWebhookBatch } from "../webhooks/delivery";

type QueueHandler = (batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) => Promise<void>;

/**
 * Queue name → consumer, for every environment's queue names in wrangler.toml (top level, staging,
 * production). Webhook delivery and its dead-letter queue.
 */
export const QUEUE_HANDLERS: Record<string, QueueHandler> = {
  "pulse-webhooks": consumeWebhookBatch,
  "pulse-webhooks-dlq": consumeDeadLetters,
  "pulse-staging-webhooks": consumeWebhookBatch,
  "pulse-staging-webhooks-dlq": consumeDeadLetters,
  "pulse-production-webhooks": consumeWebhookBatch,
  "pulse-production-webhooks-dlq": consumeDeadLetters,
};

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  const handler = QUEUE_HANDLERS[batch.queue];
  if (!handler) {
    createLogger({ queue: batch.queue }).error("queue_unknown", { messages: batch.messages.length });
    batch.retryAll();
    return;
  }
  await handler(batch, env, ctx);
}
