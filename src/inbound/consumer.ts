/**
 * The inbound queue's consumer. Each message carries one stored event's id (`{kind:
 * "livekit_event", id}`; the raw event stays in D1, so a message is tiny whatever LiveKit sent);
 * a batch of them is processed together (inbound/process.ts). Messages whose event failed are
 * retried after a short delay; after the last retry Queues moves them to the dead-letter queue,
 * whose consumer logs them: the row stays unprocessed, and the safety-net cron re-enqueues it.
 */
import { createDb } from "../db/client";
import type { Bindings } from "../env";
import { createLogger, describeError, logLevelOf } from "../lib/logger";
import { processStoredEvents } from "./process";

export interface InboundJob {
  kind: "livekit_event";
  /** The `livekit_events` row id. */
  id: string;
}

export function inboundJob(id: string): InboundJob {
  return { kind: "livekit_event", id };
}

function parseInboundJob(body: unknown): InboundJob | null {
  const b = body as Partial<InboundJob> | null;
  return b && b.kind === "livekit_event" && typeof b.id === "string" ? { kind: b.kind, id: b.id } : null;
}

const RETRY_DELAY_SECONDS = 10;

export async function consumeInboundBatch(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  const jobs = batch.messages.map((m) => ({ message: m, job: parseInboundJob(m.body) }));
  for (const { message, job } of jobs) {
    if (!job) {
      logger.error("inbound_message_unreadable", { message_id: message.id });
      message.ack();
    }
  }
  const readable = jobs.filter((j) => j.job !== null);
  if (readable.length === 0) return;
  try {
    const outcome = await processStoredEvents(
      { db: createDb(env.DB), webhookQueue: env.WEBHOOK_QUEUE, logger },
      readable.map((j) => j.job!.id),
    );
    const failed = new Set(outcome.failedIds);
    for (const { message, job } of readable) {
      if (failed.has(job!.id)) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      else message.ack();
    }
    logger.debug("inbound_batch_done", { messages: batch.messages.length, processed: outcome.processed, skipped: outcome.skipped, failed: failed.size });
  } catch (error) {
    // D1 or the delivery queue unreachable: nothing half-done is lost (each event commits with its
    // mark, and a retried processed event re-sends its unsent messages), so retry them all.
    logger.error("inbound_batch_failed", { messages: batch.messages.length, ...describeError(error) });
    for (const { message } of readable) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
  }
}

/** Dead letters: events that failed every retry. Logged; their rows stay unprocessed for the cron to retry later. */
export async function consumeInboundDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  logger.error("livekit_event_dead_lettered", { ids: batch.messages.map((m) => parseInboundJob(m.body)?.id ?? null) });
  batch.ackAll();
}
