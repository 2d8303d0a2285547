/**
 * What Pulse does on LiveKit's webhook request: verify the signature, store the raw event in D1
 * (a replay of a stored event id inserts nothing and is answered 200 as a duplicate), answer, and
 * put the stored row's id on the inbound queue behind the answer. Nothing
 * else happens on the request path: sessions, minutes, egress/ingress state and the tenants'
 * webhooks are the queue consumer's work (inbound/process.ts), in batches. LiveKit drops events it
 * cannot deliver within about 30 s, so the answer must never wait for any of that.
 *
 * Once the row is stored the event is durable, so the answer does not wait for the queue send
 * either: if that send is lost (it fails, or the isolate ends first), the safety-net cron
 * (`requeueStoredEvents`) enqueues the row a minute later.
 *
 * The ids an isolate stores within `SEND_WINDOW_MS` of each other travel in one queue message
 * (`enqueueSoon`): a queue send per event cost more than the event's own D1 insert in a profile
 * under load, and every message is three billed queue operations. The inserts are shared too
 * (`storeEvent`): the events that arrive while one insert is in flight are stored by the next, in
 * one statement, and each of their requests is answered once that statement has committed.
 */
import { and, asc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { chunks, runBatch, type Database } from "../db/client";
import { insertRows, jsonValues } from "../db/json-rows";
import { livekitEvents } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { zodIssuesToError } from "../lib/openapi";
import { newId } from "../lib/ids";
import type { Logger } from "../lib/logger";
import { describeError } from "../lib/logger";
import { livekitTimeToMs } from "../livekit/timestamps";
import { yieldToOtherWork } from "../lib/yield";
import { eventRoomName, LivekitWebhookEventSchema, type LivekitWebhookEvent } from "../livekit/webhook-event";
import { applyRateLimit } from "../rate-limit/service";
import { inboundJobs } from "./consumer";
import { verifyLivekitWebhook } from "./verify";

export interface InboundDeps {
  db: Database;
  /** The inbound queue: stored events' ids, for the consumer. */
  inboundQueue: Queue<unknown>;
  logger: Logger;
  /** Work that may finish after the answer (Workers' `waitUntil`): the queue send. */
  background(work: Promise<unknown>): void;
}

type StoredEventRow = typeof livekitEvents.$inferInsert;

/** Rows waiting to be inserted together, and what everyone of them waits on: the ids inserted. */
interface InsertGroup {
  rows: StoredEventRow[];
  inserted: Promise<ReadonlySet<string>>;
}

/** At most this many events share one insert (about 1 MB of JSON at LiveKit's usual event size). */
const MAX_GROUP_ROWS = 100;

/** How long a group waits for the insert before it, at most (a batch it only joins for efficiency). */
const MAX_WAIT_FOR_PREVIOUS_MS = 100;

/** Per database: the group still taking rows, and the insert in flight. */
const forming = new Map<Database, InsertGroup>();
const committing = new Map<Database, Promise<unknown>>();

/** One statement per slice: `INSERT … SELECT … FROM json_each(?) ON CONFLICT (event_id) DO NOTHING RETURNING id`. */
async function insertGroup(db: Database, rows: readonly StoredEventRow[]): Promise<ReadonlySet<string>> {
  const statements = insertRows(db, livekitEvents, rows).map((insert) =>
    insert.onConflictDoNothing({ target: livekitEvents.eventId }).returning({ id: livekitEvents.id }),
  );
  const results = statements.length === 1 ? [await statements[0]!] : await runBatch(db, statements);
  return new Set((results as { id: string }[][]).flat().map((r) => r.id));
}

/**
 * Inserts the row with whatever other requests of this isolate store meanwhile (group commit):
 * while one insert is in flight, the rows that arrive form the next group, and its first request
 * sends it when the one before is done. Idle, a row is inserted at once, alone. Each insert is
 * made by a request that waits for it (behind `background`, so a disconnecting client does not
 * cancel it for the others). True if the row was inserted, false if its LiveKit id was already
 * stored (a replay, also within one group).
 */
async function storeEvent(deps: InboundDeps, row: StoredEventRow): Promise<boolean> {
  const open = forming.get(deps.db);
  if (open && open.rows.length < MAX_GROUP_ROWS) {
    open.rows.push(row);
    return (await open.inserted).has(row.id);
  }
  let settle!: (result: Promise<ReadonlySet<string>>) => void;
  const inserted = new Promise<ReadonlySet<string>>((resolve) => (settle = resolve));
  const group: InsertGroup = { rows: [row], inserted };
  forming.set(deps.db, group);
  const previous = committing.get(deps.db);
  if (previous) await Promise.race([previous, new Promise((resolve) => setTimeout(resolve, MAX_WAIT_FOR_PREVIOUS_MS))]);
  if (forming.get(deps.db) === group) forming.delete(deps.db);
  const insert = insertGroup(deps.db, group.rows);
  settle(insert);
  const done = insert.catch(() => undefined);
  committing.set(deps.db, done);
  deps.background(done.finally(() => committing.get(deps.db) === done && committing.delete(deps.db)));
  return (await inserted).has(row.id);
}

/**
 * The body as stored: as sent, except an ingress's stream key. The key lets anyone publish into
 * the room, so Pulse keeps it encrypted (`ingresses.stream_key_encrypted`) and shows it to admins
 * alone; nothing downstream reads it from the event. Only such a body is re-serialized.
 */
function withoutStreamKey(event: LivekitWebhookEvent, rawBody: string): string {
  const info = event.ingressInfo;
  if (!info || !(Object.hasOwn(info, "streamKey") || Object.hasOwn(info, "stream_key"))) return rawBody;
  const body = JSON.parse(rawBody) as { ingressInfo: Record<string, unknown> };
  delete body.ingressInfo.streamKey;
  delete body.ingressInfo.stream_key;
  return JSON.stringify(body);
}

/** Stores one verified event and enqueues it; a replay (same LiveKit id) stores and enqueues nothing. */
export async function receiveLivekitEvent(deps: InboundDeps, event: LivekitWebhookEvent, rawBody: string): Promise<{ duplicate: boolean }> {
  const receivedAt = nowMs();
  const id = newId("livekitEvent");
  const stored = await storeEvent(deps, {
    id,
    eventId: event.id,
    event: event.event,
    roomName: eventRoomName(event),
    payload: withoutStreamKey(event, rawBody),
    occurredAt: livekitTimeToMs(event.createdAt) ?? receivedAt,
    receivedAt,
    requeues: 0,
  });
  if (!stored) return { duplicate: true };
  enqueueSoon(deps, id);
  return { duplicate: false };
}

/** Sends `ids` to the inbound queue, `MAX_IDS_PER_JOB` to a message (Queues takes 100 messages per call). */
export async function sendInboundJobs(queue: Queue<unknown>, ids: readonly string[]): Promise<void> {
  for (const slice of chunks(inboundJobs(ids), 100)) await queue.sendBatch(slice.map((body) => ({ body, contentType: "json" as const })));
}

/** How long a stored id waits for others to share its queue message. */
const SEND_WINDOW_MS = 20;

/** Stored ids not yet sent, per queue binding (a test may give one request a queue of its own). */
const unsent = new Map<Queue<unknown>, string[]>();

/**
 * Puts a stored event's id on the inbound queue within `SEND_WINDOW_MS`, in one message with the
 * ids other requests of this isolate store meanwhile. The first request of a window sends them all
 * behind its own answer (`background`: Workers' `waitUntil` keeps its invocation alive until the
 * send is done); the others only add their id. No request waits on another's I/O. A send that
 * fails, or never happens because the isolate ends, is covered by the safety-net cron.
 */
function enqueueSoon(deps: InboundDeps, id: string): void {
  const pending = unsent.get(deps.inboundQueue);
  if (pending) {
    pending.push(id);
    return;
  }
  const ids = [id];
  unsent.set(deps.inboundQueue, ids);
  deps.background(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, SEND_WINDOW_MS));
      unsent.delete(deps.inboundQueue);
      await sendInboundJobs(deps.inboundQueue, ids);
    })().catch((error: unknown) => {
      deps.logger.warn("livekit_event_enqueue_failed", { stored_ids: ids.length, ...describeError(error) });
    }),
  );
}

/** A webhook request as LiveKit sent it. */
export interface SignedWebhook {
  /** The `Authorization` header: LiveKit's JWT, bare or after `Bearer `. */
  authorization: string | undefined;
  /** The exact body bytes as text (the JWT's `sha256` covers them). */
  rawBody: string;
  /** Where it came from: failed signatures are limited per address. */
  clientIp: string;
}

/**
 * Verifies, parses and receives one webhook request. A bad signature is 401 and counts against the
 * sender's address (429 past `RATE_LIMIT_IP_PER_MIN`; the limiter failing open, so it never costs
 * LiveKit's events); a verified body that is not an event is 400.
 */
export async function receiveSignedWebhook(
  deps: InboundDeps & Pick<Deps, "config" | "limiter">,
  request: SignedWebhook,
): Promise<{ duplicate: boolean }> {
  if (!(await verifyLivekitWebhook(deps.config.livekit, request.authorization, request.rawBody))) {
    const limited = await applyRateLimit(deps, {
      policy: "livekit-webhook-ip",
      key: `livekit-webhook:${request.clientIp}`,
      limit: deps.config.rateLimits.ipPerMinute,
      failMode: "open",
    });
    throw new ApiError("unauthenticated", "Missing or invalid LiveKit webhook signature.", {
      headers: limited.status === "checked" ? limited.headers : undefined,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  const parsed = LivekitWebhookEventSchema.safeParse(json);
  if (!parsed.success) throw zodIssuesToError(parsed.error);
  return receiveLivekitEvent(deps, parsed.data, request.rawBody);
}

/** Re-enqueued per page of the safety net; pages repeat while the backlog lasts, up to `maxPages`. */
const REQUEUE_PAGE = 500;

type Position = { receivedAt: number; id: string };

/**
 * Runs of the safety net an event may stay unprocessed through before it is given up on: each run
 * gives it the queue's own retries again, so an event still failing after an hour of five-minute
 * runs fails for a reason a retry does not fix (a bug, an event Pulse cannot read). Given up, it is
 * logged (`livekit_events_abandoned`) and kept, for an operator to requeue (inbound/abandoned.ts).
 */
export const MAX_REQUEUES = 12;

/** Stored, not processed and not given up on: the predicate of `livekit_events_unprocessed_idx`. */
const inLine = and(isNull(livekitEvents.processedAt), isNull(livekitEvents.abandonedAt));

/**
 * Unprocessed events not given up on, stored before `cutoff`, oldest first, after `after` (the
 * query's plan is tested).
 */
export function unprocessedEventsQuery(db: Database, cutoff: number, after: Position | null, limit: number) {
  return db
    .select({ id: livekitEvents.id, eventId: livekitEvents.eventId, receivedAt: livekitEvents.receivedAt, requeues: livekitEvents.requeues })
    .from(livekitEvents)
    .where(
      and(
        inLine,
        lt(livekitEvents.receivedAt, cutoff),
        after ? or(gt(livekitEvents.receivedAt, after.receivedAt), and(eq(livekitEvents.receivedAt, after.receivedAt), gt(livekitEvents.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(livekitEvents.receivedAt), asc(livekitEvents.id))
    .limit(limit);
}

/**
 * When the oldest event still in line (stored, unprocessed, not given up on) was stored, or null:
 * the inbound path's lag, for `/metrics`. One seek at the start of the partial index of
 * unprocessed rows, whatever the backlog's size (the plan is tested).
 */
export function oldestUnprocessedQuery(db: Database) {
  return db
    .select({ receivedAt: sql<number | null>`MIN(${livekitEvents.receivedAt})` })
    .from(livekitEvents)
    .where(inLine);
}

/**
 * Cron job, the safety net for a lost queue send: events stored more than `olderThanMs` ago and
 * still unprocessed are enqueued again, oldest first, a page at a time while there are more (up to
 * `maxPages` pages a run), so it keeps pace with a backlog and stays bounded. Read through the
 * partial index of unprocessed rows: its cost follows the backlog, not the table. Each requeue is
 * counted; an event requeued MAX_REQUEUES times that is still unprocessed is given up on instead.
 */
export async function requeueStoredEvents(
  deps: Pick<InboundDeps, "db" | "inboundQueue" | "logger">,
  opts: { olderThanMs?: number; maxPages?: number; pageSize?: number } = {},
): Promise<{ requeued: number; abandoned: number }> {
  const now = nowMs();
  const cutoff = now - (opts.olderThanMs ?? 60_000);
  const pageSize = opts.pageSize ?? REQUEUE_PAGE;
  let after: Position | null = null;
  let requeued = 0;
  let abandoned = 0;
  for (let page = 0; page < (opts.maxPages ?? 20); page++) {
    const rows = await unprocessedEventsQuery(deps.db, cutoff, after, pageSize).all();
    const givenUp = rows.filter((r) => r.requeues >= MAX_REQUEUES);
    const again = rows.filter((r) => r.requeues < MAX_REQUEUES);
    if (givenUp.length > 0) {
      await abandonEvents(deps.db, givenUp.map((r) => r.id), now);
      deps.logger.error("livekit_events_abandoned", { count: givenUp.length, requeues: MAX_REQUEUES, event_ids: givenUp.slice(0, 50).map((r) => r.eventId) });
      abandoned += givenUp.length;
    }
    if (again.length > 0) {
      const ids = again.map((r) => r.id);
      // Counted before the send: a send that fails still used up one of the event's chances.
      await deps.db.update(livekitEvents).set({ requeues: sql`${livekitEvents.requeues} + 1` }).where(inArray(livekitEvents.id, jsonValues(ids))).run();
      await sendInboundJobs(deps.inboundQueue, ids);
      requeued += ids.length;
    }
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]!;
    await yieldToOtherWork();
  }
  return { requeued, abandoned };
}

/** Gives up on events still unprocessed (one processed meanwhile keeps its processed state alone). */
function abandonEvents(db: Database, ids: readonly string[], at: number) {
  return db
    .update(livekitEvents)
    .set({ abandonedAt: at })
    .where(and(inArray(livekitEvents.id, jsonValues(ids)), isNull(livekitEvents.processedAt)))
    .run();
}
