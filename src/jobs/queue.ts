/**
 * Queue consumer entry: each queue this Worker consumes is dispatched by name to its handler, and
 * within a batch each message by its `kind` (`mail` → the mailer; `webhook_recover` → the next
 * step of a recover; anything else, including
 * messages from before kinds existed, → webhook delivery). A batch from an unknown queue is
 * retried (never silently acked) and logged.
 */
import type { Bindings } from "../env";
import { createLogger } from "../lib/logger";
import { consumeMail, consumeMailDeadLetters } from "../mail/delivery";
import { isMailJob } from "../mail/outbox";
import { consumeDeadLetters, consumeWebhookBatch } from "../webhooks/delivery";
import { consumeRecoverJobs, isRecoverJob } from "../webhooks/recover";

type QueueHandler = (batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) => Promise<void>;

/** A batch of some of `batch`'s messages, for a handler that takes a whole batch. */
function subBatch(batch: MessageBatch<unknown>, messages: Message<unknown>[]): MessageBatch<unknown> {
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll: () => messages.forEach((m) => m.ack()),
    retryAll: (options) => messages.forEach((m) => m.retry(options)),
  };
}

function byKind(
  mail: (messages: readonly Message<unknown>[], env: Bindings) => Promise<void>,
  webhooks: QueueHandler,
): QueueHandler {
  return async (batch, env, ctx) => {
    const mailMessages = batch.messages.filter((m) => isMailJob(m.body));
    const others = batch.messages.filter((m) => !isMailJob(m.body));
    await Promise.all([
      mailMessages.length > 0 ? mail(mailMessages, env) : undefined,
      others.length > 0 ? webhooks(subBatch(batch, others), env, ctx) : undefined,
    ]);
  };
}

/** Webhook work: recover continuations (`webhook_recover`) apart from single deliveries. */
const webhookWork: QueueHandler = async (batch, env, ctx) => {
  const recover = batch.messages.filter((m) => isRecoverJob(m.body));
  const deliveryMessages = batch.messages.filter((m) => !isRecoverJob(m.body));
  await Promise.all([
    recover.length > 0 ? consumeRecoverJobs(recover, env) : undefined,
    deliveryMessages.length > 0 ? consumeWebhookBatch(subBatch(batch, deliveryMessages), env) : undefined,
  ]);
};

const deliveries = byKind(consumeMail, webhookWork);
const deadLetters = byKind(consumeMailDeadLetters, consumeDeadLetters);

/**
 * Queue name → consumer, for every environment's queue names in wrangler.toml (top level, staging,
 * production): deliveries (webhooks and mail) and their dead-letter queue.
 */
export const QUEUE_HANDLERS: Record<string, QueueHandler> = {
  "pulse-webhooks": deliveries,
  "pulse-webhooks-dlq": deadLetters,
  "pulse-staging-webhooks": deliveries,
  "pulse-staging-webhooks-dlq": deadLetters,
  "pulse-production-webhooks": deliveries,
  "pulse-production-webhooks-dlq": deadLetters,
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
