/**
 * Queue consumer entry: each queue this Worker consumes is dispatched by name to its handler.
 * A batch from an unknown queue is retried (never silently acked) and logged.
 */
import type { Bindings } from "../env";
import { createLogger } from "../lib/logger";

type QueueHandler = (batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) => Promise<void>;

/** Queue name → consumer. Webhook delivery registers here (see webhooks/). */
export const QUEUE_HANDLERS: Record<string, QueueHandler> = {};

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  const handler = QUEUE_HANDLERS[batch.queue];
  if (!handler) {
    createLogger({ queue: batch.queue }).error("queue_unknown", { messages: batch.messages.length });
    batch.retryAll();
    return;
  }
  await handler(batch, env, ctx);
}
