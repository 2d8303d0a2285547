/**
 * LiveKit events the safety net gave up on (`abandoned_at`, see `requeueStoredEvents`): stored,
 * still unprocessed after MAX_REQUEUES runs, so failing for a reason a retry does not fix. They
 * are kept; once the cause is fixed an operator lists them and puts them back in line
 * (`GET /v1/admin/livekit-events/abandoned`, `POST …/abandoned/requeue`). Both read the partial
 * index of given-up rows, so they cost as many rows as were given up on, not the table.
 */
import { and, asc, count, inArray, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import { auditEntryWhen, type AuditActor } from "../audit/record";
import { runBatch, type Database } from "../db/client";
import { jsonValues } from "../db/json-rows";
import { livekitEvents } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs, toIso } from "../lib/clock";
import { describeError } from "../lib/logger";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { sendInboundJobs } from "./service";

/** Events put back in line by one request, oldest given up on first. */
export const REQUEUE_ABANDONED_MAX = 100;

/** Given up on and still unprocessed (an event processed after all, by a stray queue message, is done). */
const abandoned = and(isNotNull(livekitEvents.abandonedAt), isNull(livekitEvents.processedAt));

export function listAbandonedEvents(deps: Pick<Deps, "db">, request: PageRequest) {
  const { db } = deps;
  return newestFirstPage(request, { createdAt: livekitEvents.abandonedAt, id: livekitEvents.id }, (after, order, fetch) =>
    db
      .select({
        id: livekitEvents.id,
        eventId: livekitEvents.eventId,
        event: livekitEvents.event,
        roomName: livekitEvents.roomName,
        receivedAt: livekitEvents.receivedAt,
        requeues: livekitEvents.requeues,
        createdAt: sql<number>`${livekitEvents.abandonedAt}`,
      })
      .from(livekitEvents)
      .where(and(abandoned, after))
      .orderBy(...order)
      .limit(fetch)
      .all(),
  );
}

export type AbandonedEventRow = Awaited<ReturnType<typeof listAbandonedEvents>>["rows"][number];

/** The operators' view: LiveKit's ids and times, never the payload (a tenant's participant data). */
export function serializeAbandonedEvent(row: AbandonedEventRow) {
  return {
    id: row.id,
    event_id: row.eventId,
    event: row.event,
    room_name: row.roomName,
    received_at: toIso(row.receivedAt),
    requeues: row.requeues,
    abandoned_at: toIso(row.createdAt),
  };
}

/**
 * The given-up events to put back, oldest given up on first: of `ids` (any others named are
 * ignored), or of all. A subquery: the change and its audit entry each pick with it inside one
 * transaction, so both name the same rows.
 */
function chosen(db: Database, ids: readonly string[] | undefined, limit: number) {
  return db
    .select({ id: livekitEvents.id })
    .from(livekitEvents)
    .where(and(abandoned, ids ? inArray(livekitEvents.id, jsonValues(ids)) : undefined))
    .orderBy(asc(livekitEvents.abandonedAt), asc(livekitEvents.id))
    .limit(limit);
}

/**
 * Puts given-up events back in line: their `abandoned_at` cleared and their requeue count reset,
 * so the safety net gives them all of its runs again, and their ids on the inbound queue now. The
 * pick, the change and its audit entry are one batch: the entry is written only when something was
 * put back and lists exactly what was (an event processed or requeued by someone else meanwhile is
 * neither changed nor listed). A lost queue send costs only time: the events are unprocessed and in
 * line again, so the safety net's next run enqueues them.
 */
export async function requeueAbandonedEvents(
  deps: Pick<Deps, "db" | "logger">,
  inboundQueue: Queue<unknown>,
  actor: AuditActor,
  input: { ids?: string[]; limit?: number },
): Promise<{ requeued: string[]; more: boolean }> {
  const { db } = deps;
  const pick = chosen(db, input.ids, input.limit ?? REQUEUE_ABANDONED_MAX);
  const [, requeued, [remaining]] = (await runBatch(db, [
    auditEntryWhen(
      db,
      actor,
      { action: "livekit_event.requeued", resourceType: "livekit_event", resourceId: null },
      sql`EXISTS ${pick}`,
      nowMs(),
      sql`json_object('ids', (SELECT json_group_array(picked.id) FROM ${pick} AS picked))`,
    ),
    db.update(livekitEvents).set({ abandonedAt: null, requeues: 0 }).where(inArray(livekitEvents.id, pick)).returning({ id: livekitEvents.id }),
    anyAbandoned(db),
  ])) as [unknown, { id: string }[], { id: string }[]];
  const requeuedIds = requeued.map((r) => r.id);
  if (requeuedIds.length > 0) {
    try {
      await sendInboundJobs(inboundQueue, requeuedIds);
    } catch (error) {
      deps.logger.warn("livekit_event_enqueue_failed", { stored_ids: requeuedIds.length, ...describeError(error) });
    }
  }
  return { requeued: requeuedIds, more: remaining !== undefined };
}

/** How many are given up on (`/metrics`): a range of the partial index, as many rows as were given up on. */
export function abandonedCountQuery(db: Database) {
  return db.select({ value: count() }).from(livekitEvents).where(abandoned);
}

/** One given-up event, if any is left. */
function anyAbandoned(db: Database) {
  return db.select({ id: livekitEvents.id }).from(livekitEvents).where(abandoned).limit(1);
}
