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
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { rowsMatch, rowWhen } from "../db/count-cap";
import { type BatchItem, type BatchRead, type Database } from "../db/client";
import { insertRows, jsonTable, jsonValues } from "../db/json-rows";
import { participantSessions, usageEvents } from "../db/schema";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
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
  // Open sessions close on `left_at IS NULL`; the timeout's closes are replaced on their own end.
  const open = closes.filter((c) => !c.replacesTimeout);
  const late = closes.filter((c) => c.replacesTimeout);
  if (open.length > 0) statements.push(...endStatements(db, open, at, "open"));
  if (late.length > 0) statements.push(...endStatements(db, late, at, "timed_out"));
  return statements;
}

/**
 * Ends sessions and meters them, set-based: each session takes its end, minutes and reason, and
 * its minutes are metered once by source id (the participant sid). `open`: sessions not ended yet.
 * `timed_out`: sessions the timeout ended, guarded by that end (so two real ends racing apply
 * once), metering only the minutes beyond what the timeout metered, under `afterTimeoutSource`.
 */
function endStatements(db: Database, closes: SessionClose[], at: number, which: "open" | "timed_out"): BatchItem[] {
  const rows = closes.map((c) => ({
    projectId: c.session.projectId,
    participantSid: c.session.participantSid,
    timeoutLeftAt: c.replacesTimeout?.leftAt ?? null,
    leftAt: c.leftAt,
    minutes: billableMinutes(c.session.joinedAt, c.leftAt),
    reason: c.reason,
  }));
  const end = jsonTable("session_end", ["projectId", "participantSid", "timeoutLeftAt", "leftAt", "minutes", "reason"], rows);
  const still =
    which === "open"
      ? // Not from `participant_sessions_open_idx`, which lists every tenant's open sessions:
        // without statistics SQLite prefers it to the sid index (a unary `+` rules an index out).
        sql.raw("+participant_sessions.left_at IS NULL")
      : and(eq(participantSessions.endReason, "timeout"), eq(participantSessions.leftAt, end.columns.timeoutLeftAt));
  const statements: BatchItem[] = [
    db
      .update(participantSessions)
      .set({ leftAt: sql`${end.columns.leftAt}`, minutes: sql`${end.columns.minutes}`, endReason: sql`${end.columns.reason}`, updatedAt: at })
      .from(end.source)
      .where(and(eq(participantSessions.participantSid, end.columns.participantSid), eq(participantSessions.projectId, end.columns.projectId), still)),
  ];
  const metered = closes.flatMap((c, i) => {
    const quantity = rows[i]!.minutes - (c.replacesTimeout?.minutes ?? 0);
    if (quantity <= 0) return [];
    const { projectId, orgId, participantSid, room, identity } = c.session;
    const sourceId = c.replacesTimeout ? afterTimeoutSource(participantSid) : participantSid;
    const usage = { id: newId("usageEvent"), projectId, orgId, meter: "participant_minutes", quantity, occurredAt: c.leftAt, sourceId, room, identity, createdAt: at };
    return [{ close: c, usage }];
  });
  const once = { target: [usageEvents.meter, usageEvents.sourceId] };
  if (which === "open") {
    // A session's minutes once, by its sid: a repeated or racing close meters nothing more.
    statements.push(...insertRows(db, usageEvents, metered.map((m) => m.usage)).map((insert) => insert.onConflictDoNothing(once)));
    return statements;
  }
  // The minutes beyond the timeout's, only when the session took this end: of two real ends racing
  // in concurrent batches (a late leave and its room's end), the one whose update lost meters
  // nothing. Rare (sessions the timeout closed), so a statement each.
  for (const { close, usage } of metered) {
    const tookThisEnd = rowsMatch(
      participantSessions,
      and(
        eq(participantSessions.participantSid, close.session.participantSid),
        eq(participantSessions.projectId, close.session.projectId),
        eq(participantSessions.leftAt, close.leftAt),
        eq(participantSessions.endReason, close.reason),
      )!,
    );
    statements.push(db.insert(usageEvents).select(rowWhen(usageEvents, usage, tookThisEnd)).onConflictDoNothing(once));
  }
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
