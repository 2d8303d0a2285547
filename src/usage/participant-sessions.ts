/**
 * Participant sessions and participant-minute metering. A session opens on `participant_joined`
 * and closes on `participant_left`, `participant_connection_aborted`, `room_finished`, or (when
 * LiveKit's events were lost) the stale-session job. Closing meters the session once, rounded up
 * to whole minutes, idempotently by the participant sid (LiveKit's sid is unique per session).
 *
 * Opens and closes are rows (`SessionChanges`) that `sessionStatements` turns into statements for
 * the caller's batch, a few for any number of events; a close is guarded by `left_at IS NULL`, and
 * the usage insert is idempotent, so a duplicate or racing close meters nothing twice.
 */
import { and, eq, gte, inArray, isNull, lt, max, sql } from "drizzle-orm";
import { runBatch, type BatchItem, type BatchRead, type Database } from "../db/client";
import { insertRows, jsonTable, jsonValues } from "../db/json-rows";
import { livekitEvents, participantSessions, usageEvents } from "../db/schema";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { namespacedRoom } from "../livekit/rooms";
import { yieldToOtherWork } from "../lib/yield";
import { recountRoomSessions } from "../sessions/record";
import { billableMinutes } from "./record";

export interface ProjectRef {
  projectId: string;
  orgId: string;
}

export interface ParticipantRef {
  room: string;
  roomSid: string | null;
  participantSid: string;
  identity: string;
}

export type ParticipantSession = typeof participantSessions.$inferSelect;
type SessionRow = ParticipantSession;

export type EndReason = "left" | "connection_aborted" | "room_finished" | "timeout";

/**
 * Changes to participant sessions as rows, so a whole batch of events applies them in a few
 * set-based statements (`sessionStatements`) instead of two or three per event.
 */
export interface SessionChanges {
  opens: (typeof participantSessions.$inferInsert)[];
  closes: SessionClose[];
}

export interface SessionClose {
  session: Pick<SessionRow, "projectId" | "orgId" | "participantSid" | "joinedAt" | "room" | "identity">;
  leftAt: number;
  reason: EndReason;
  /**
   * Set when this close is the real end of a session the stale-session job already closed: the
   * timeout's end and minutes, which this one replaces (`realEndOfTimedOut`). Minutes already
   * metered are never taken back.
   */
  replacesTimeout?: { leftAt: number; minutes: number };
}

/** The source id of the minutes a real end adds to a session first closed by the timeout. */
export const afterTimeoutSource = (participantSid: string) => `${participantSid}:after-timeout`;

/**
 * The real end of a session the timeout closed: it ends then if that is later (metering the
 * difference); an earlier real end only records the reason, the timeout's end and minutes standing
 * (they are metered). Either way the session is no longer the timeout's, so no later event, such
 * as its room's `room_finished`, extends it again.
 */
function realEndOfTimedOut(session: SessionRow, leftAt: number, reason: EndReason): SessionClose[] {
  if (session.endReason !== "timeout" || reason === "timeout" || session.leftAt === null) return [];
  return [{ session, leftAt: Math.max(leftAt, session.leftAt), reason, replacesTimeout: { leftAt: session.leftAt, minutes: session.minutes ?? 0 } }];
}

export const noSessionChanges = (): SessionChanges => ({ opens: [], closes: [] });

export function openSession(project: ProjectRef, p: ParticipantRef, joinedAt: number): SessionChanges {
  const at = nowMs();
  return { opens: [{ id: newId("participantSession"), ...project, ...p, joinedAt, createdAt: at, updatedAt: at }], closes: [] };
}

/**
 * The statements for `changes` (of one event or a whole batch, in order): the opens (a sid
 * already open changes nothing), then the closes and their metering. A close is matched by the
 * participant sid, not our row id, so a leave processed while its join was being written
 * (concurrent batches) closes the join's row rather than missing it; `left_at IS NULL` and the
 * usage event's unique source make a repeated close change and meter nothing.
 */
export function sessionStatements(db: Database, changes: readonly SessionChanges[]): BatchItem[] {
  const opens = changes.flatMap((c) => c.opens);
  // One close per participant sid, the first (a later one would find the session closed).
  const closes: SessionClose[] = [];
  const closing = new Set<string>();
  for (const close of changes.flatMap((c) => c.closes)) {
    if (closing.has(close.session.participantSid)) continue;
    closing.add(close.session.participantSid);
    closes.push(close);
  }
  const statements: BatchItem[] = insertRows(db, participantSessions, opens).map((insert) => insert.onConflictDoNothing({ target: participantSessions.participantSid }));
  const at = nowMs();
  const late = closes.filter((c) => c.replacesTimeout);
  if (late.length > 0) statements.push(...realEndStatements(db, late, at));
  const open = closes.filter((c) => !c.replacesTimeout);
  if (open.length === 0) return statements;
  return [...statements, ...closeStatements(db, open, at)];
}

/** Closes open sessions (`left_at IS NULL`) and meters each once by its sid. */
function closeStatements(db: Database, closes: SessionClose[], at: number): BatchItem[] {
  const statements: BatchItem[] = [];
  const closed = closes.map((c) => ({
    projectId: c.session.projectId,
    participantSid: c.session.participantSid,
    leftAt: c.leftAt,
    minutes: billableMinutes(c.session.joinedAt, c.leftAt),
    reason: c.reason,
  }));
  const close = jsonTable("close", ["projectId", "participantSid", "leftAt", "minutes", "reason"], closed);
  statements.push(
    db
      .update(participantSessions)
      .set({ leftAt: sql`${close.columns.leftAt}`, minutes: sql`${close.columns.minutes}`, endReason: sql`${close.columns.reason}`, updatedAt: at })
      .from(close.source)
      .where(
        and(
          eq(participantSessions.participantSid, close.columns.participantSid),
          eq(participantSessions.projectId, close.columns.projectId),
          // Not from `participant_sessions_open_idx`, which lists every tenant's open sessions:
          // without statistics SQLite prefers it to the sid index (a unary `+` rules an index out).
          sql.raw("+participant_sessions.left_at IS NULL"),
        ),
      ),
  );
  const metered = closes.flatMap((c, i) => {
    const minutes = closed[i]!.minutes;
    if (minutes === 0) return [];
    const { projectId, orgId, participantSid, room, identity } = c.session;
    return [{ id: newId("usageEvent"), projectId, orgId, meter: "participant_minutes", quantity: minutes, occurredAt: c.leftAt, sourceId: participantSid, room, identity, createdAt: at }];
  });
  statements.push(...insertRows(db, usageEvents, metered).map((insert) => insert.onConflictDoNothing({ target: [usageEvents.meter, usageEvents.sourceId] })));
  return statements;
}

/**
 * Real ends of sessions the timeout closed: the session takes its real end and minutes (guarded
 * by the timeout's end, so two of them racing apply once), and the minutes beyond what the
 * timeout metered are metered once more, under `afterTimeoutSource`.
 */
function realEndStatements(db: Database, closes: SessionClose[], at: number): BatchItem[] {
  const rows = closes.map((c) => ({
    projectId: c.session.projectId,
    participantSid: c.session.participantSid,
    timeoutLeftAt: c.replacesTimeout!.leftAt,
    leftAt: c.leftAt,
    minutes: billableMinutes(c.session.joinedAt, c.leftAt),
    reason: c.reason,
  }));
  const ended = jsonTable("ended", ["projectId", "participantSid", "timeoutLeftAt", "leftAt", "minutes", "reason"], rows);
  const statements: BatchItem[] = [
    db
      .update(participantSessions)
      .set({ leftAt: sql`${ended.columns.leftAt}`, minutes: sql`${ended.columns.minutes}`, endReason: sql`${ended.columns.reason}`, updatedAt: at })
      .from(ended.source)
      .where(
        and(
          eq(participantSessions.participantSid, ended.columns.participantSid),
          eq(participantSessions.projectId, ended.columns.projectId),
          eq(participantSessions.endReason, "timeout"),
          eq(participantSessions.leftAt, ended.columns.timeoutLeftAt),
        ),
      ),
  ];
  const metered = closes.flatMap((c, i) => {
    const more = rows[i]!.minutes - c.replacesTimeout!.minutes;
    if (more <= 0) return [];
    const { projectId, orgId, participantSid, room, identity } = c.session;
    return [{ id: newId("usageEvent"), projectId, orgId, meter: "participant_minutes", quantity: more, occurredAt: c.leftAt, sourceId: afterTimeoutSource(participantSid), room, identity, createdAt: at }];
  });
  statements.push(...insertRows(db, usageEvents, metered).map((insert) => insert.onConflictDoNothing({ target: [usageEvents.meter, usageEvents.sourceId] })));
  return statements;
}

/**
 * Closes one participant's session. A leave whose join was lost still meters, from the
 * participant's own `joinedAt` when LiveKit sent it (else the session has no known length).
 */
export async function closeSession(
  db: Database,
  project: ProjectRef,
  p: ParticipantRef,
  at: { joinedAt: number | null; leftAt: number },
  reason: EndReason,
  /** The session as already read by the caller (`sessionsBySidRead`, for a batch of events); read here when absent. */
  known?: SessionRow | null,
): Promise<SessionChanges> {
  const existing =
    known !== undefined
      ? known
      : await db
          .select()
          .from(participantSessions)
          .where(and(eq(participantSessions.participantSid, p.participantSid), eq(participantSessions.projectId, project.projectId)))
          .get();
  if (existing) return { opens: [], closes: existing.leftAt === null ? [{ session: existing, leftAt: at.leftAt, reason }] : realEndOfTimedOut(existing, at.leftAt, reason) };
  const opened = openSession(project, p, at.joinedAt ?? at.leftAt);
  return { opens: opened.opens, closes: [{ session: opened.opens[0]!, leftAt: at.leftAt, reason }] };
}

/** The sessions of these participant sids (one statement however many), for closing a batch of leaves. */
export function sessionsBySidRead(db: Database, sids: readonly string[]): BatchRead<Map<string, SessionRow>> {
  return {
    statement: db.select().from(participantSessions).where(inArray(participantSessions.participantSid, jsonValues([...new Set(sids)]))),
    read(rows) {
      return new Map((rows as SessionRow[]).map((row) => [row.participantSid, row]));
    },
  };
}

/**
 * The room's open sessions, by `participant_sessions_open_by_room_idx` whatever the project's
 * history: of this instance of the room by sid, and those opened without a sid.
 */
export function openSessionsInRoomQuery(db: Database, project: ProjectRef, room: { room: string; roomSid: string | null }) {
  return db
    .select()
    .from(participantSessions)
    .where(
      and(
        eq(participantSessions.projectId, project.projectId),
        eq(participantSessions.room, room.room),
        isNull(participantSessions.leftAt),
        // `room_sid = ? OR room_sid IS NULL`, written so it cannot be read from the room_sid index
        // (whose NULL entries are every tenant's sessions without a sid).
        room.roomSid ? sql`COALESCE(${participantSessions.roomSid}, ${room.roomSid}) = ${room.roomSid}` : undefined,
      ),
    );
}

/**
 * `room_finished`: every session still open in that room ends with it, and so do the sessions of
 * this instance of the room (by its sid) that the stale-session job closed too early.
 */
export async function closeRoomSessions(db: Database, project: ProjectRef, room: { room: string; roomSid: string | null }, leftAt: number): Promise<SessionChanges> {
  const openQuery = openSessionsInRoomQuery(db, project, room);
  // Both reads in one round trip.
  const [open, timedOut] = room.roomSid
    ? await db.batch([
        openQuery,
        db
          .select()
          .from(participantSessions)
          .where(and(eq(participantSessions.roomSid, room.roomSid), eq(participantSessions.projectId, project.projectId), eq(participantSessions.endReason, "timeout"))),
      ])
    : [await openQuery.all(), []];
  return {
    opens: [],
    closes: [
      ...open.map((s) => ({ session: s, leftAt: Math.max(leftAt, s.joinedAt), reason: "room_finished" as const })),
      ...timedOut.flatMap((s) => realEndOfTimedOut(s, leftAt, "room_finished")),
    ],
  };
}

/**
 * Closes sessions open longer than `timeoutHours` (their leave and the room's end were lost).
 * They end at the last sign of life Pulse saw for their room (the newest LiveKit event for it),
 * never at "now": billing a tenant for hours of our missing events would be wrong.
 *
 * Scales with its backlog: pages of `pageSize` stale sessions (oldest first, on the open-sessions
 * index), each page's "newest event of the room" reads sent as one batch (each one index seek on
 * (room_name, occurred_at)) and its closes written as one batch, until none is left or the
 * wall-clock budget is spent.
 */
export async function closeStaleSessions(db: Database, timeoutHours: number, opts: { pageSize?: number; budgetMs?: number } = {}): Promise<number> {
  const pageSize = opts.pageSize ?? 200;
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  const timeoutMs = timeoutHours * 3600_000;
  const cutoff = nowMs() - timeoutMs;
  let closed = 0;
  while (Date.now() < deadline) {
    const stale = await db
      .select()
      .from(participantSessions)
      .where(and(isNull(participantSessions.leftAt), lt(participantSessions.joinedAt, cutoff)))
      .orderBy(participantSessions.leftAt, participantSessions.joinedAt)
      .limit(pageSize)
      .all();
    if (stale.length === 0) break;
    const lastSeen = (await runBatch(
      db,
      stale.map((s) =>
        db
          .select({ at: max(livekitEvents.occurredAt) })
          .from(livekitEvents)
          .where(and(eq(livekitEvents.roomName, namespacedRoom(s.projectId, s.room)), gte(livekitEvents.occurredAt, s.joinedAt))),
      ),
    )) as { at: number | null }[][];
    const closes = stale.map((s, i): SessionClose => {
      const last = lastSeen[i]?.[0]?.at ?? s.joinedAt;
      return { session: s, leftAt: Math.min(Math.max(last, s.joinedAt), s.joinedAt + timeoutMs), reason: "timeout" };
    });
    // Their room sessions' minutes follow (in the same batch, after the closes).
    const rooms = stale.flatMap((s) => (s.roomSessionId ? [s.roomSessionId] : []));
    await runBatch(db, [...sessionStatements(db, [{ opens: [], closes }]), ...recountRoomSessions(db, rooms)]);
    closed += stale.length;
    if (stale.length < pageSize) break;
    await yieldToOtherWork();
  }
  return closed;
}
