/**
 * Turning an event into deliveries: one `webhook_messages` row per (event, endpoint) with a stable
 * `msg_` id (the `webhook-id` header across all retries), the exact body stored so every attempt
 * signs the same bytes. Rows are idempotent by (endpoint, source id): processing the same LiveKit
 * event twice creates nothing twice. Queue messages carry only the row id; the row is the truth.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { chunks, type BatchRead, type Database } from "../db/client";
import { insertRows, jsonValues } from "../db/json-rows";
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

/** An enabled endpoint as the fan-out needs it. */
export interface FanOutEndpoint {
  id: string;
  projectId: string;
  events: string | null;
  /** Room patterns (JSON), null for every room. */
  rooms: string | null;
  format: "standard" | "livekit";
}

/** The enabled endpoints of `projectIds`, by project: one statement for a whole batch of events. */
export function enabledEndpointsRead(db: Database, projectIds: readonly string[]): BatchRead<Map<string, FanOutEndpoint[]>> {
  return {
    statement: db
      .select({ id: webhookEndpoints.id, projectId: webhookEndpoints.projectId, events: webhookEndpoints.events, rooms: webhookEndpoints.rooms, format: webhookEndpoints.format })
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.projectId, jsonValues([...new Set(projectIds)])), eq(webhookEndpoints.enabled, true), isNull(webhookEndpoints.deletedAt))),
    read(rows) {
      const byProject = new Map<string, FanOutEndpoint[]>();
      for (const row of rows as FanOutEndpoint[]) byProject.set(row.projectId, [...(byProject.get(row.projectId) ?? []), row]);
      return byProject;
    },
  };
}

/** A `webhook_messages` row to insert. */
export type MessageInsert = ReturnType<typeof messageRow>;

/**
 * A row for every endpoint in `endpoints` subscribed to the event's type (and, with a room
 * filter, to the event's room). LiveKit-format endpoints get `livekitEvent` (LiveKit's own event,
 * when the event is one) in LiveKit's format, and nothing for events LiveKit does not have.
 */
export function fanOutRows(
  endpoints: readonly FanOutEndpoint[],
  projectId: string,
  event: TenantEvent,
  sourceId: string,
  livekitEvent?: Record<string, unknown>,
): MessageInsert[] {
  const subscribed = endpoints
    .filter((e) => e.projectId === projectId)
    .filter((e) => e.events === null || (JSON.parse(e.events) as string[]).includes(event.type))
    .filter((e) => roomFilterAdmits(e.rooms === null ? null : (JSON.parse(e.rooms) as string[]), event));
  const livekitBody = livekitEvent && subscribed.some((e) => e.format === "livekit") ? livekitWebhookBody(livekitEvent, projectId) : null;
  const standardBody = webhookBody(event);
  return subscribed
    .filter((e) => e.format === "standard" || livekitBody !== null)
    .map((e) => messageRow(projectId, e.id, event, sourceId, e.format === "livekit" ? livekitBody! : standardBody));
}

/**
 * Inserts for a batch's fan-out rows (set-based: one statement for many events), each returning
 * the ids of the rows it created: nothing for a row that already exists (a re-processed event).
 */
export function fanOutInserts(db: Database, rows: readonly MessageInsert[]) {
  return insertRows(db, webhookMessages, rows).map((insert) =>
    insert.onConflictDoNothing({ target: [webhookMessages.endpointId, webhookMessages.sourceId] }).returning({ id: webhookMessages.id }),
  );
}

/** A single message to one endpoint (the `webhook.test` send); `payload` replaces the standard body. */
export function singleMessage(db: Database, projectId: string, endpointId: string, event: TenantEvent, sourceId: string, payload?: string) {
  const row = messageRow(projectId, endpointId, event, sourceId, payload);
  return { row, insert: db.insert(webhookMessages).values(row) };
}

const SEND_BATCH_LIMIT = 100; // Queues' sendBatch maximum

export async function enqueueDeliveries(queue: Queue<unknown>, jobs: DeliveryJob[]): Promise<void> {
  for (const slice of chunks(jobs, SEND_BATCH_LIMIT)) {
    // `kind` lets the queue consumer (jobs/queue.ts) tell deliveries from mail on the same queue.
    await queue.sendBatch(slice.map((job) => ({ body: { kind: "webhook", ...job }, contentType: "json" as const })));
  }
}

/** The query behind `unsentMessagesOf` (for at most `MAX_BOUND_IDS` sources; its plan is tested). */
export function unsentMessagesQuery(db: Database, projectId: string, sourceIds: string[]) {
  return db
    .select({ id: webhookMessages.id })
    .from(webhookMessages)
    .where(
      and(
        eq(webhookMessages.projectId, projectId),
        inArray(webhookMessages.sourceId, sourceIds),
        eq(webhookMessages.status, "pending"),
        eq(webhookMessages.attempts, 0),
      ),
    );
}

/**
 * The messages made from `sourceIds` in one project that were never attempted: the look-up runs on
 * the (project, source) index, so it never reads another tenant's rows however many they have
 * pending. Enqueueing them again is harmless: the delivery consumer's attempt claim sends once.
 */
export async function unsentMessagesOf(db: Database, projectId: string, sourceIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const sources of chunks(sourceIds)) ids.push(...(await unsentMessagesQuery(db, projectId, sources).all()).map((r) => r.id));
  return ids;
}
