/**
 * The inbound queue's consumer. Each message carries the ids of stored events (`{kind:
 * "livekit_events", ids}`: the events a Worker isolate stored within a few milliseconds, see
 * inbound/service.ts; the raw events stay in D1, so a message stays small whatever LiveKit sent).
 * A batch's events are processed together (inbound/process.ts). A message with an event that
 * failed is retried after a short delay (its other events are then skipped as done); after the last
 * retry Queues moves it to the dead-letter queue, whose consumer logs it: the rows stay
 * unprocessed, and the safety-net cron re-enqueues them.
 */
import { chunks, createDb } from "../db/client";
import type { Bindings } from "../env";
import { createLogger, describeError, logLevelOf } from "../lib/logger";
import { processStoredEvents } from "./process";

export interface InboundJob {
  kind: "livekit_events";
  /** `livekit_events` row ids, at most `MAX_IDS_PER_JOB`. */
  ids: string[];
}

/** 50 ids are ~1.5 KB, far under Queues' 128 KB message cap. */
const MAX_IDS_PER_JOB = 50;

/** The messages that carry `ids`, `MAX_IDS_PER_JOB` to a message. */
export function inboundJobs(ids: readonly string[]): InboundJob[] {
  return chunks(ids, MAX_IDS_PER_JOB).map((slice) => ({ kind: "livekit_events", ids: slice }));
}

/** The ids a message carries; also reads the one-id messages (`{kind: "livekit_event", id}`) of earlier versions. */
function idsOf(body: unknown): string[] | null {
  const b = body as { kind?: unknown; ids?: unknown; id?: unknown } | null;
  if (b?.kind === "livekit_events" && Array.isArray(b.ids) && b.ids.every((id) => typeof id === "string")) return b.ids as string[];
  if (b?.kind === "livekit_event" && typeof b.id === "string") return [b.id];
  return null;
}

/** Events processed by one `processStoredEvents` call: a batch carries up to 1,000 locally (20 messages), 5,000 deployed (100). */
const EVENTS_PER_PASS = 100;

const RETRY_DELAY_SECONDS = 10;

export async function consumeInboundBatch(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  const jobs: { message: Message<unknown>; ids: string[] }[] = [];
  for (const message of batch.messages) {
    const ids = idsOf(message.body);
    if (ids) jobs.push({ message, ids });
    else {
      logger.error("inbound_message_unreadable", { message_id: message.id });
      message.ack();
    }
  }
  const ids = [...new Set(jobs.flatMap((j) => j.ids))];
  const failed = new Set<string>();
  let processed = 0;
  let skipped = 0;
  try {
    const deps = { db: createDb(env.DB), webhookQueue: env.WEBHOOK_QUEUE, logger };
    for (const pass of chunks(ids, EVENTS_PER_PASS)) {
      const outcome = await processStoredEvents(deps, pass);
      for (const id of outcome.failedIds) failed.add(id);
      processed += outcome.processed;
      skipped += outcome.skipped;
    }
  } catch (error) {
    // D1 or the delivery queue unreachable: nothing half-done is lost (each event commits with its
    // mark, and a retried processed event re-sends its unsent messages), so retry them all.
    logger.error("inbound_batch_failed", { messages: batch.messages.length, ...describeError(error) });
    for (const { message } of jobs) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  for (const { message, ids: mine } of jobs) {
    if (mine.some((id) => failed.has(id))) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    else message.ack();
  }
  logger.debug("inbound_batch_done", { messages: batch.messages.length, events: ids.length, processed, skipped, failed: failed.size });
}

/** Dead letters: events that failed every retry. Logged; their rows stay unprocessed for the cron to retry later. */
export async function consumeInboundDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const logger = createLogger({ queue: batch.queue }, logLevelOf(env.LOG_LEVEL));
  logger.error("livekit_event_dead_lettered", { ids: batch.messages.flatMap((m) => idsOf(m.body) ?? [null]) });
  batch.ackAll();
}
