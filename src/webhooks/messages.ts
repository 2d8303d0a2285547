/**
 * Turning an event into deliveries: one `webhook_messages` row per (event, endpoint) with a stable
 * `msg_` id (the `webhook-id` header across all retries), the exact body stored so every attempt
 * signs the same bytes. Rows are idempotent by (endpoint, source id): processing the same LiveKit
 * event twice creates nothing twice. Queue messages carry only the row id; the row is the truth.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { webhookEndpoints, webhookMessages } from "../db/schema";
import { nowMs, toIso } from "../lib/clock";
import { newId } from "../lib/ids";
import type { TenantEvent } from "./event-types";
import { livekitWebhookBody } from "./livekit-format";
import { roomFilterAdmits } from "./room-filter";

/** What travels through the queue. `base_attempts`: attempts already made before this send. */
export interface DeliveryJob {
  message_id: string;
  base_attempts: number;
}

export function parseDeliveryJob(body: unknown): DeliveryJob | null {
  const b = body as Partial<DeliveryJob> | null;
  if (!b || typeof b.message_id !== "string" || !Number.isInteger(b.base_attempts) || b.base_attempts! < 0) return null;
  return { message_id: b.message_id, base_attempts: b.base_attempts! };
}

export function webhookBody(event: TenantEvent): string {
  return JSON.stringify({ type: event.type, timestamp: toIso(event.occurredAt), data: event.data });
}

function messageRow(projectId: string, endpointId: string, event: TenantEvent, sourceId: string, payload = webhookBody(event)) {
  const at = nowMs();
  return {
    id: newId("webhookMessage"),
    projectId,
    endpointId,
    eventType: event.type,
    payload,
    status: "pending" as const,
    attempts: 0,
    sourceId,
    nextAttemptAt: at,
    createdAt: at,
  };
}

/**
 * Inserts for every enabled endpoint of the project subscribed to the event's type (and, with a
 * room filter, to the event's room). LiveKit-format
 * endpoints get `livekitEvent` (LiveKit's own event, when the event is one) in LiveKit's format,
 * and nothing for events LiveKit does not have.
 */
export async function fanOutStatements(
  db: Database,
  projectId: string,
  event: TenantEvent,
  sourceId: string,
  livekitEvent?: Record<string, unknown>,
): Promise<BatchItem[]> {
  const endpoints = await db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events, format: webhookEndpoints.format, rooms: webhookEndpoints.rooms })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.projectId, projectId), eq(webhookEndpoints.enabled, true), isNull(webhookEndpoints.deletedAt)))
    .all();
  const livekitBody = livekitEvent ? livekitWebhookBody(livekitEvent, projectId) : null;
  return endpoints
    .filter((e) => e.events === null || (JSON.parse(e.events) as string[]).includes(event.type))
    .filter((e) => roomFilterAdmits(e.rooms === null ? null : (JSON.parse(e.rooms) as string[]), event))
    .filter((e) => e.format === "standard" || livekitBody !== null)
    .map((e) =>
      db
        .insert(webhookMessages)
        .values(messageRow(projectId, e.id, event, sourceId, e.format === "livekit" ? livekitBody! : undefined))
        .onConflictDoNothing({ target: [webhookMessages.endpointId, webhookMessages.sourceId] }),
    );
}

/** A single message to one endpoint (the `webhook.test` send); `payload` replaces the standard body. */
export function singleMessage(db: Database, projectId: string, endpointId: string, event: TenantEvent, sourceId: string, payload?: string) {
  const row = messageRow(projectId, endpointId, event, sourceId, payload);
  return { row, insert: db.insert(webhookMessages).values(row) };
}

const SEND_BATCH_LIMIT = 100; // Queues' sendBatch maximum

export async function enqueueDeliveries(queue: Queue<unknown>, jobs: DeliveryJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += SEND_BATCH_LIMIT) {
    // `kind` lets the queue consumer (jobs/queue.ts) tell deliveries from mail on the same queue.
    await queue.sendBatch(jobs.slice(i, i + SEND_BATCH_LIMIT).map((job) => ({ body: { kind: "webhook", ...job }, contentType: "json" as const })));
  }
}

/**
 * Enqueues the not-yet-attempted messages made from `sourceId`. Re-running it (a retried or
 * re-processed event) may enqueue a message twice; the consumer's attempt claim sends it once.
 */
export async function enqueueNewMessages(db: Database, queue: Queue<unknown>, projectId: string, sourceId: string): Promise<number> {
  const rows = await db
    .select({ id: webhookMessages.id })
    .from(webhookMessages)
    .where(and(eq(webhookMessages.projectId, projectId), eq(webhookMessages.sourceId, sourceId), eq(webhookMessages.status, "pending"), eq(webhookMessages.attempts, 0)))
    .all();
  await enqueueDeliveries(queue, rows.map((r) => ({ message_id: r.id, base_attempts: 0 })));
  return rows.length;
}
