/**
 * Processing stored LiveKit events in batches (the inbound queue's consumer calls this with the
 * ids its messages carry). For a batch:
 *
 * 1. One query loads the rows; events already processed are skipped (their never-sent webhook
 *    messages are enqueued again, in case the send after their commit was lost).
 * 2. Events are ordered by LiveKit's `createdAt`, then by what must come first within one second
 *    (a room starts before anyone joins, a join before the leave, the leave before the room ends).
 * 3. Attribution, the tenants' webhook endpoints and the leaves' participant sessions: one
 *    round trip for the whole batch (`readTogether`), a statement each.
 * 4. Events are split into waves by what they read and write (a participant's session, a room, an
 *    egress, an ingress): an event that reads what an earlier one wrote goes to a later wave, so
 *    its domain module's look-ups see that committed. Joins read nothing, so a whole batch of joins
 *    is one wave; joins then leaves then the room's end, three. A wave commits in `db.batch()`es
 *    of up to 25 events, in order: in each, the events' effects (sessions, minutes, room sessions,
 *    egress/ingress state, webhook messages) and their processed marks (one per project) commit
 *    together, so an event is applied exactly once or not at all. The next wave's leaves read
 *    their sessions at the end of the wave's last batch, after its writes.
 * 5. The new webhook messages are enqueued for delivery.
 *
 * Every effect is also idempotent and order-tolerant on its own (a leave before its join still
 * meters from the participant's `joinedAt`), so concurrent consumers or a replay are harmless. A
 * wave whose batch fails is retried event by event, so one bad event holds back only itself.
 */
import { and, inArray, isNull } from "drizzle-orm";
import { chunks, readTogether, runBatch, type BatchItem, type BatchRead, type Database } from "../db/client";
import { jsonValues } from "../db/json-rows";
import { livekitEvents } from "../db/schema";
import { egressEventEffects } from "../egress/events";
import { withPublicIngressErrors } from "../ingress/errors";
import { applyIngressEvent } from "../ingress/events";
import { nowMs } from "../lib/clock";
import type { Logger } from "../lib/logger";
import { describeError } from "../lib/logger";
import { withPublicEgressErrors } from "../egress/errors";
import { protoString } from "../lib/protojson";
import { livekitTimeToMs } from "../livekit/timestamps";
import { yieldToOtherWork } from "../lib/yield";
import { LivekitWebhookEventSchema, type LivekitWebhookEvent } from "../livekit/webhook-event";
import { rememberRooms, type SeenRoom } from "../rooms/known-rooms";
import { participantRoomSessions, roomSessionEffects, type ParticipantTouch } from "../sessions/record";
import {
  closeRoomSessions,
  closeSession,
  noSessionChanges,
  openSession,
  sessionsBySidRead,
  sessionStatements,
  type ParticipantSession,
  type SessionChanges,
} from "../usage/participant-sessions";
import { tenantEventFor } from "../webhooks/event-types";
import { enabledEndpointsRead, enqueueDeliveries, fanOutInserts, fanOutRows, unsentMessagesOf, type FanOutEndpoint, type MessageInsert } from "../webhooks/messages";
import { attributionsOf, LEAVES, outlivesProject, projectStatesRead, projectsNamed, type Attribution } from "./attribution";

export interface ProcessDeps {
  db: Database;
  /** Where outbound webhook deliveries go. */
  webhookQueue: Queue<unknown>;
  logger: Logger;
}

type StoredEvent = typeof livekitEvents.$inferSelect;

interface Item {
  row: StoredEvent;
  event: LivekitWebhookEvent;
  project: Attribution | null;
  /** The state this event's processing reads and writes (see `access`). */
  reads: string[];
  writes: string[];
}

/** Within one second of `createdAt` (LiveKit's resolution), what happens first. */
const ORDER_IN_SECOND: Record<string, number> = {
  room_started: 0,
  egress_started: 0,
  ingress_started: 0,
  participant_joined: 1,
  egress_updated: 1,
  track_published: 2,
  track_unpublished: 3,
  participant_left: 4,
  participant_connection_aborted: 4,
  egress_ended: 4,
  ingress_ended: 4,
  room_finished: 5,
};

function byOccurrence(a: Item, b: Item): number {
  return (
    a.row.occurredAt - b.row.occurredAt ||
    (ORDER_IN_SECOND[a.event.event] ?? 2) - (ORDER_IN_SECOND[b.event.event] ?? 2) ||
    a.row.receivedAt - b.row.receivedAt ||
    (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0)
  );
}

/**
 * The state an event's processing reads (its domain module looks it up before writing) and writes,
 * as keys: a participant session, a room of a project (its sessions and room session), an egress,
 * an ingress. Joins and track events read nothing (their writes are idempotent SQL), so a busy
 * room's joins share a wave; a leave reads its participant's session, a room's end all of them.
 */
function access(event: LivekitWebhookEvent, project: Attribution | null): { reads: string[]; writes: string[] } {
  if (!project) return { reads: [], writes: [] };
  if (event.event.startsWith("egress_")) {
    const key = `egress:${protoString(event.egressInfo, "egressId") ?? ""}`;
    return { reads: [key], writes: [key] };
  }
  if (event.event.startsWith("ingress_")) {
    const key = `ingress:${protoString(event.ingressInfo, "ingressId") ?? ""}`;
    return { reads: [key], writes: [key] };
  }
  if (project.room === null) return { reads: [], writes: [] };
  const room = `room:${project.projectId}:${project.room}`;
  // Without LiveKit's room sid the room session is found by reading the room's open one.
  const roomReads = event.room?.sid ? [] : [room];
  const sid = event.participant?.sid;
  switch (event.event) {
    case "participant_joined":
      return { reads: roomReads, writes: sid ? [room, `participant:${sid}`] : [room] };
    case "participant_left":
    case "participant_connection_aborted":
      return sid ? { reads: [...roomReads, `participant:${sid}`], writes: [room, `participant:${sid}`] } : { reads: roomReads, writes: [room] };
    case "room_started":
      return { reads: roomReads, writes: [room] };
    case "room_finished":
      return { reads: [room], writes: [room] };
    default:
      return { reads: [], writes: [] };
  }
}

/**
 * Consecutive waves that keep the events' serial meaning: an event comes after every earlier event
 * that wrote what it reads (a later wave: its reads must see those writes committed), and no
 * earlier than the earlier events that read or wrote what it writes (the same wave is fine: a wave
 * reads before it writes, and its batch keeps the events' order).
 */
function waves(items: Item[]): Item[][] {
  const out: Item[][] = [];
  const lastWrite = new Map<string, number>();
  const lastRead = new Map<string, number>();
  for (const item of items) {
    let wave = 0;
    for (const k of item.reads) if (lastWrite.has(k)) wave = Math.max(wave, lastWrite.get(k)! + 1);
    for (const k of item.writes) wave = Math.max(wave, lastWrite.get(k) ?? 0, lastRead.get(k) ?? 0);
    for (const k of item.reads) lastRead.set(k, Math.max(lastRead.get(k) ?? 0, wave));
    for (const k of item.writes) lastWrite.set(k, Math.max(lastWrite.get(k) ?? 0, wave));
    (out[wave] ??= []).push(item);
  }
  return out.filter((w) => w !== undefined);
}

/** The event's effect on participant sessions and minutes (`usage/participant-sessions`), as rows. */
async function sessionChanges(
  db: Database,
  event: LivekitWebhookEvent,
  project: Attribution,
  occurredAt: number,
  /** The participant's session of this project, as read before the wave (leaves only); null when none was. */
  known: ParticipantSession | null,
): Promise<SessionChanges> {
  const room = project.room;
  const roomSid = event.room?.sid || null;
  const p = event.participant;
  switch (event.event) {
    case "participant_joined": {
      if (!room || !p?.sid) return noSessionChanges();
      const joinedAt = livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt) ?? occurredAt;
      return openSession(project, { room, roomSid, participantSid: p.sid, identity: p.identity ?? "" }, joinedAt);
    }
    case "participant_left":
    case "participant_connection_aborted": {
      if (!room || !p?.sid) return noSessionChanges();
      const joinedAt = livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt);
      const reason = event.event === "participant_left" ? "left" : "connection_aborted";
      const participant = { room, roomSid, participantSid: p.sid, identity: p.identity ?? "" };
      return closeSession(db, project, participant, { joinedAt, leftAt: occurredAt }, reason, known);
    }
    case "room_finished":
      return room ? closeRoomSessions(db, project, { room, roomSid }, occurredAt) : noSessionChanges();
    default:
      return noSessionChanges();
  }
}

/**
 * One event's part of a batch: its participant-session changes and its part in the room-session
 * statements (both applied for the whole batch at once), its own statements (egress, ingress, a
 * room's start or end) and its webhook message rows.
 */
interface Planned {
  item: Item;
  sessions: SessionChanges;
  effects: BatchItem[];
  touch: ParticipantTouch | null;
  seen: SeenRoom | null;
  messages: MessageInsert[];
}

async function plan(db: Database, item: Item, endpoints: Map<string, FanOutEndpoint[]>, readSessions: Map<string, ParticipantSession>): Promise<Planned> {
  const { row, event, project } = item;
  const nothing = (seen: SeenRoom | null = null): Planned => ({ item, sessions: noSessionChanges(), effects: [], touch: null, seen, messages: [] });
  if (!project) return nothing();
  // A leave's session was read before the wave (`readSessions`), found by sid: only this project's counts.
  const read = event.participant?.sid ? readSessions.get(event.participant.sid) : undefined;
  const known = read?.projectId === project.projectId ? read : null;
  // After its project's deletion, a join or a start opens nothing: its room is only remembered,
  // for the teardown to delete (`outlivesProject`).
  if (!project.live && !outlivesProject(event)) {
    return nothing(project.room === null ? null : { projectId: project.projectId, name: project.room, lastSeenAt: row.occurredAt });
  }
  // A leave after the deletion closes only a session opened before it.
  if (!project.live && LEAVES.has(event.event) && !known) return nothing();
  // An egress event's effects and its `recording.completed` come from one read of the record.
  const egress = event.event.startsWith("egress_")
    ? await egressEventEffects(db, project, { event: event.event, id: event.id, createdAt: row.occurredAt, egressInfo: event.egressInfo ?? {} })
    : null;
  const sessions = await sessionChanges(db, event, project, row.occurredAt, known);
  const ingress = event.event === "ingress_started" || event.event === "ingress_ended";
  const effects =
    egress?.statements ??
    (ingress ? await applyIngressEvent(db, project, { event: event.event, id: event.id, createdAt: row.occurredAt, ingressInfo: event.ingressInfo ?? {} }) : []);
  const roomSession = await roomSessionEffects(db, event, project, row.occurredAt, known);
  effects.push(...roomSession.statements);
  const tenantEvent = tenantEventFor(event, project.projectId, row.occurredAt);
  const projectEndpoints = endpoints.get(project.projectId) ?? [];
  const messages = tenantEvent ? fanOutRows(projectEndpoints, project.projectId, tenantEvent, event.id, event) : [];
  // A completed recording is its own event, once per egress (its source id is the egress's).
  const recording = egress?.recording;
  if (recording) messages.push(...fanOutRows(projectEndpoints, project.projectId, recording.event, recording.sourceId));
  return { item, sessions, effects, touch: roomSession.touch, seen: roomSession.seen, messages };
}

/** `value` of each item, grouped by `key`, in first-seen order. */
function groupBy<T, K, V>(items: T[], key: (item: T) => K, value: (item: T) => V): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(value(item));
    else groups.set(k, [value(item)]);
  }
  return groups;
}

/**
 * The processed marks of a wave's events, one UPDATE per project (and one for the unattributed,
 * the ids as one JSON parameter):
 * in the wave's batch, after every effect, so each event's effects and its mark commit together.
 */
function marks(db: Database, planned: Planned[]): BatchItem[] {
  const byProject = groupBy(planned, ({ item }) => item.project?.projectId ?? null, ({ item }) => item.row.id);
  const processedAt = nowMs();
  return [...byProject].map(([projectId, ids]) => markProcessed(db, projectId, ids, processedAt));
}

/** What a commit returns: the new message ids, the events that failed, and `readAfter`'s result (absent when it failed). */
interface Committed<T> {
  messageIds: string[];
  failed: StoredEvent[];
  after?: T;
}

/**
 * Commits a wave in one batch; on failure, each event on its own. `readAfter` rides at the end of
 * the batch, so it sees the batch's writes without a round trip of its own (the next wave's
 * look-ups); when the batch fails it is not read, and the caller reads it alone.
 */
async function commit<T>(deps: ProcessDeps, planned: Planned[], readAfter?: BatchRead<T>): Promise<Committed<T>> {
  // Participant sessions first, set-based, so every room-session statement after them sees them.
  const statements: BatchItem[] = sessionStatements(deps.db, planned.map((p) => p.sessions));
  statements.push(...planned.flatMap((p) => p.effects));
  // The participant events' room sessions, set-based, after every participant-session change.
  statements.push(...participantRoomSessions(deps.db, planned.flatMap((p) => (p.touch ? [p.touch] : []))));
  // The rooms' names for listing, one statement, after the effects (a room's end forgets its name
  // there; a later start or join in the same wave remembers it again).
  statements.push(...rememberRooms(deps.db, planned.flatMap((p) => (p.seen ? [p.seen] : []))));
  // The wave's webhook messages in one set-based insert, after the effects and before the marks.
  const inserts = fanOutInserts(deps.db, planned.flatMap((p) => p.messages));
  const messageSlots = inserts.map((insert) => statements.push(insert) - 1);
  statements.push(...marks(deps.db, planned));
  const afterSlot = readAfter ? statements.push(readAfter.statement) - 1 : -1;
  try {
    const results = (await runBatch(deps.db, statements)) as unknown[];
    return {
      messageIds: messageSlots.flatMap((i) => (results[i] as { id: string }[]).map((r) => r.id)),
      failed: [],
      ...(readAfter ? { after: readAfter.read(results[afterSlot]) } : {}),
    };
  } catch (error) {
    if (planned.length === 1) {
      deps.logger.error("livekit_event_failed", { event_id: planned[0]!.item.row.eventId, event: planned[0]!.item.event.event, ...describeError(error) });
      return { messageIds: [], failed: [planned[0]!.item.row] };
    }
    const each = [];
    for (const p of planned) each.push(await commit(deps, [p]));
    return { messageIds: each.flatMap((r) => r.messageIds), failed: each.flatMap((r) => r.failed) };
  }
}

/** Marks stored events processed for `projectId` (null: attributed to no project), unless already marked. */
export function markProcessed(db: Database, projectId: string | null, ids: readonly string[], processedAt: number) {
  return db
    .update(livekitEvents)
    .set({ projectId, processedAt })
    .where(and(inArray(livekitEvents.id, jsonValues(ids)), isNull(livekitEvents.processedAt)));
}

/** The stored events `ids`, in one query whatever their number (the ids travel as one JSON parameter). */
export function storedEventsQuery(db: Database, ids: readonly string[]) {
  return db.select().from(livekitEvents).where(inArray(livekitEvents.id, jsonValues([...new Set(ids)])));
}


/** The participant sids of `items`' leaves (their sessions are read before they are planned). */
function leaveSids(items: readonly Item[]): string[] {
  return items.flatMap((i) => (LEAVES.has(i.event.event) && i.event.participant?.sid ? [i.event.participant.sid] : []));
}

/** Never-sent messages of events already processed, by project (one indexed query per project). */
async function unsentOfProcessed(db: Database, rows: StoredEvent[]): Promise<string[]> {
  const byProject = groupBy(
    rows.filter((r) => r.projectId !== null),
    (r) => r.projectId!,
    (r) => r.eventId,
  );
  const ids: string[] = [];
  for (const [projectId, sourceIds] of byProject) ids.push(...(await unsentMessagesOf(db, projectId, sourceIds)));
  return ids;
}

/**
 * A wave commits in batches of at most this many events, one after another (the wave's events
 * read nothing another wave member writes, and sequential batches keep their order). Participant
 * events' statements are set-based, so a batch is a handful of statements whatever its size; D1
 * runs it as one transaction, so this bounds how long one batch holds D1's single writer (and,
 * locally, the thread that also answers requests): 100-event commits raised inbound p99 there.
 */
export const COMMIT_EVENTS = 25;

export interface BatchOutcome {
  processed: number;
  /** Already processed before this batch (a duplicate queue message). */
  skipped: number;
  /** Stored-event ids whose processing failed: their queue messages are retried. */
  failedIds: string[];
}

/** Processes the stored events `ids` (our `lke_` row ids, not LiveKit's) as one batch. */
export async function processStoredEvents(deps: ProcessDeps, ids: string[]): Promise<BatchOutcome> {
  const { db } = deps;
  const rows = await storedEventsQuery(db, ids).all();
  const done = rows.filter((r) => r.processedAt !== null);
  const items: Item[] = [];
  const unreadable: StoredEvent[] = [];
  for (const row of rows) {
    if (row.processedAt !== null) continue;
    const parsed = LivekitWebhookEventSchema.safeParse(safeJson(row.payload));
    if (!parsed.success) {
      unreadable.push(row);
      continue;
    }
    const event = parsed.data;
    // Records and both webhook formats get generic egress and ingress errors; the raw text goes to the log only.
    if (event.egressInfo) event.egressInfo = withPublicEgressErrors(event.egressInfo, deps.logger);
    if (event.ingressInfo) event.ingressInfo = withPublicIngressErrors(event.ingressInfo, deps.logger);
    items.push({ row, event, project: null, reads: [], writes: [] });
  }
  // The batch's look-ups in one round trip: the named projects' states, their endpoints, and the
  // sessions of every leave (the first wave's are current; a later wave's are read again, below).
  const events = items.map((i) => i.event);
  const named = await projectsNamed(db, events);
  const candidates = named.filter((id): id is string => id !== null);
  const [states, endpoints, firstSessions] = await readTogether(db, [
    projectStatesRead(db, candidates),
    enabledEndpointsRead(db, candidates),
    sessionsBySidRead(db, leaveSids(items)),
  ] as const);
  const attributions = attributionsOf(
    items.map((i) => ({ event: i.event, occurredAt: i.row.occurredAt })),
    named,
    states,
  );
  items.forEach((item, i) => {
    item.project = attributions[i]!;
    Object.assign(item, access(item.event, item.project));
  });
  items.sort(byOccurrence);

  const messageIds = await unsentOfProcessed(db, done);
  const failed: StoredEvent[] = [];
  const inWaves = waves(items);
  let sessions = firstSessions;
  for (const [w, wave] of inWaves.entries()) {
    // Between the batch's round trips, requests get their turn (LiveKit's webhooks among them).
    await yieldToOtherWork();
    const planned = await Promise.all(wave.map((item) => plan(db, item, endpoints, sessions)));
    // The next wave's leaves find their sessions, as this wave leaves them, at the end of its last commit.
    const next = inWaves[w + 1];
    const nextRead = next ? sessionsBySidRead(db, leaveSids(next)) : undefined;
    let nextSessions: Map<string, ParticipantSession> | undefined;
    const parts = chunks(planned, COMMIT_EVENTS);
    for (const [i, part] of parts.entries()) {
      if (i > 0) await yieldToOtherWork();
      const result = await commit(deps, part, i === parts.length - 1 ? nextRead : undefined);
      messageIds.push(...result.messageIds);
      failed.push(...result.failed);
      nextSessions = result.after;
    }
    if (nextRead) sessions = nextSessions ?? (await readTogether(db, [nextRead] as const))[0];
  }
  const processed = items.length - failed.length;
  if (unreadable.length > 0) {
    // Verified and parsed when received, so this is a bug, not LiveKit: keep them, process nothing.
    deps.logger.error("livekit_event_unreadable", { event_ids: unreadable.map((r) => r.eventId) });
    failed.push(...unreadable);
  }
  await enqueueDeliveries(deps.webhookQueue, messageIds.map((id) => ({ message_id: id, base_attempts: 0 })));
  return { processed, skipped: done.length, failedIds: failed.map((r) => r.id) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
