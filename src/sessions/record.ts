/**
 * Room sessions from LiveKit's webhooks: one `room_sessions` row per LiveKit room lifetime (LiveKit's
 * room sid), opened by `room_started` or, when that was lost, by the first participant event, and
 * ended by `room_finished` or, when that was lost, by the next lifetime of the same room or the
 * stale-session job (at the last participant's leave).
 *
 * The statements run in the same batch as the participant-session changes (after them), so the
 * counters recomputed here see the batch's own changes. Counters are recomputed from the
 * participant sessions, never incremented, so a replayed or reordered event changes nothing twice.
 */
import { and, desc, eq, inArray, isNull, lt, ne, sql, type SQL } from "drizzle-orm";
import { runBatch, type BatchItem, type Database } from "../db/client";
import { insertRows, jsonTable, jsonValues } from "../db/json-rows";
import { participantSessions, roomSessions } from "../db/schema";
import type { ParticipantSession } from "../usage/participant-sessions";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { livekitTimeToMs } from "../livekit/timestamps";
import type { LivekitWebhookEvent } from "../livekit/webhook-event";
import { forgetRoom, type SeenRoom } from "../rooms/known-rooms";

export interface SessionProject {
  projectId: string;
  orgId: string;
  /** The tenant's own room name. */
  room: string | null;
}

/** How one room lifetime is addressed in SQL: by LiveKit's sid when known, else by our id. */
interface RoomSessionRef {
  where: SQL;
  id: SQL;
}

const PARTICIPANT_EVENTS = new Set(["participant_joined", "participant_left", "participant_connection_aborted"]);

const MINE = sql.raw("ps.room_session_id = room_sessions.id");

/** Connections open at `at` (a participant's join) in the room session being updated. */
const concurrentAt = (at: SQL | number) =>
  sql`(SELECT COUNT(*) FROM participant_sessions ps WHERE ${MINE} AND ps.joined_at <= ${at} AND (ps.left_at IS NULL OR ps.left_at > ${at}))`;

/** The counters, recomputed from the participant sessions: distinct identities, billed minutes, and the peak raised to `peak` when that is higher. */
function counters(peak: SQL) {
  return {
    participantCount: sql`(SELECT COUNT(DISTINCT ps.identity) FROM participant_sessions ps WHERE ${MINE})`,
    participantMinutes: sql`(SELECT COALESCE(SUM(ps.minutes), 0) FROM participant_sessions ps WHERE ${MINE})`,
    peakParticipants: sql`MAX(room_sessions.peak_participants, ${peak})`,
    updatedAt: nowMs(),
  };
}

/** One room session's counters, with the peak checked at `joinedAt` (none for a room's end). */
function recount(db: Database, ref: RoomSessionRef, joinedAt: number | null): BatchItem {
  return db
    .update(roomSessions)
    .set(counters(joinedAt === null ? sql`0` : concurrentAt(joinedAt)))
    .where(ref.where);
}

/** Recounts these room sessions (participant sessions of theirs closed outside an event: the timeout). */
export function recountRoomSessions(db: Database, ids: readonly string[]): BatchItem[] {
  if (ids.length === 0) return [];
  return [db.update(roomSessions).set(counters(sql`0`)).where(inArray(roomSessions.id, jsonValues([...new Set(ids)])))];
}

/**
 * `ended_at IS NULL` that SQLite will not answer from `room_sessions_ended_at_idx` (a unary `+`
 * keeps a term from using an index). That index lists every tenant's open rooms; without
 * statistics the planner prefers it to the (project, room) index these look-ups are for, and
 * reads all of them for each of a batch's rooms.
 */
const STILL_OPEN = sql.raw("+room_sessions.ended_at IS NULL");

/** A lifetime whose end was never reported ends at its last participant's leave, or its start when nobody left. */
const END_AT_LAST_LEAVE = sql`COALESCE((SELECT MAX(ps.left_at) FROM participant_sessions ps WHERE ${MINE}), room_sessions.started_at)`;

/**
 * Earlier lifetimes of the same room still open (their `room_finished` was lost) end at their last
 * participant's leave, or their start when nobody left.
 */
function endSuperseded(db: Database, projectId: string, room: string, roomSid: string, startedAt: number): BatchItem {
  return db
    .update(roomSessions)
    .set({
      endedAt: END_AT_LAST_LEAVE,
      updatedAt: nowMs(),
    })
    .where(
      and(
        eq(roomSessions.projectId, projectId),
        eq(roomSessions.room, room),
        STILL_OPEN,
        ne(roomSessions.roomSid, roomSid),
        lt(roomSessions.startedAt, startedAt),
      ),
    );
}

/** The room session an event belongs to, created (idempotently) if needed, with the statements that make it. */
async function ensureRoomSession(
  db: Database,
  project: SessionProject & { room: string },
  roomSid: string | null,
  startedAt: number,
): Promise<{ ref: RoomSessionRef; statements: BatchItem[] }> {
  const at = nowMs();
  const statements: BatchItem[] = [];
  let ref: RoomSessionRef;
  let id: string;
  if (roomSid) {
    ref = {
      where: and(eq(roomSessions.roomSid, roomSid), eq(roomSessions.projectId, project.projectId))!,
      id: sql`(SELECT id FROM room_sessions WHERE room_sid = ${roomSid} AND project_id = ${project.projectId})`,
    };
    id = newId("roomSession");
    statements.push(endSuperseded(db, project.projectId, project.room, roomSid, startedAt));
  } else {
    // No sid (LiveKit always sends one; tolerated): the room's open lifetime, or a new one.
    const open = await db
      .select({ id: roomSessions.id })
      .from(roomSessions)
      .where(and(eq(roomSessions.projectId, project.projectId), eq(roomSessions.room, project.room), STILL_OPEN))
      .orderBy(desc(roomSessions.startedAt))
      .get();
    id = open?.id ?? newId("roomSession");
    ref = { where: eq(roomSessions.id, id), id: sql`${id}` };
  }
  // One upsert: a participant event may have opened it before `room_started` arrived, so on
  // conflict the earliest start wins; a sid already taken by another project's row changes nothing.
  statements.push(
    db
      .insert(roomSessions)
      .values({ id, projectId: project.projectId, orgId: project.orgId, room: project.room, roomSid, startedAt, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({
        target: roomSid ? roomSessions.roomSid : roomSessions.id,
        set: { startedAt: sql`MIN(room_sessions.started_at, excluded.started_at)` },
        setWhere: eq(roomSessions.projectId, project.projectId),
      }),
  );
  return { ref, statements };
}

/**
 * A participant event's part in its room session, applied for a whole batch of events at once by
 * `participantRoomSessions` (four statements however many events): the lifetime exists and started
 * no later than the participant's join, earlier lifetimes of the room are over, the participant's
 * session belongs to it, and its counters are recounted with the peak checked at the join.
 */
export interface ParticipantTouch {
  projectId: string;
  orgId: string;
  room: string;
  roomSid: string;
  participantSid: string;
  joinedAt: number;
  /** The name LiveKit sent; null keeps the stored one. */
  name: string | null;
  /** False when the session already belongs to a room session under this name (nothing to link). */
  link: boolean;
}

/**
 * What an event does to room sessions: its own statements, and its parts in the batch's shared
 * ones (the room session of a participant event; the room's name to remember, `rememberRooms`).
 */
export interface RoomSessionEffects {
  statements: BatchItem[];
  touch: ParticipantTouch | null;
  seen: SeenRoom | null;
}

/**
 * An event's effects on room sessions, for the caller's batch after the participant-session changes
 * of the same events. Events without a room of the project change nothing here. `known` is the
 * participant's session as the caller read it before the batch, when it did (a leave's): if it
 * already belongs to a room session and has the event's name, it is not linked again.
 */
export async function roomSessionEffects(
  db: Database,
  event: LivekitWebhookEvent,
  project: SessionProject,
  occurredAt: number,
  known?: Pick<ParticipantSession, "roomSessionId" | "name"> | null,
): Promise<RoomSessionEffects> {
  const none: RoomSessionEffects = { statements: [], touch: null, seen: null };
  const room = project.room;
  if (!room) return none;
  const roomSid = event.room?.sid || null;
  const scoped = { ...project, room };
  const seen = { projectId: project.projectId, name: room, lastSeenAt: occurredAt };
  if (event.event === "room_started") {
    const startedAt = livekitTimeToMs(event.room?.creationTime) ?? occurredAt;
    const { statements } = await ensureRoomSession(db, scoped, roomSid, startedAt);
    return { statements, touch: null, seen };
  }
  if (event.event === "room_finished") {
    const { ref, statements } = await ensureRoomSession(db, scoped, roomSid, livekitTimeToMs(event.room?.creationTime) ?? occurredAt);
    return {
      statements: [
        ...statements,
        db.update(roomSessions).set({ endedAt: sql`COALESCE(room_sessions.ended_at, ${occurredAt})` }).where(ref.where),
        recount(db, ref, null),
        forgetRoom(db, project.projectId, room, occurredAt),
      ],
      touch: null,
      seen: null,
    };
  }
  const p = event.participant;
  if (!PARTICIPANT_EVENTS.has(event.event) || !p?.sid) return none;
  const joinedAt = livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt) ?? occurredAt;
  const joined = event.event === "participant_joined" ? seen : null;
  const link = !(known?.roomSessionId != null && (!p.name || p.name === known.name));
  if (roomSid) {
    const touch = { projectId: project.projectId, orgId: project.orgId, room, roomSid, participantSid: p.sid, joinedAt, name: p.name || null, link };
    return { statements: [], touch, seen: joined };
  }
  // No room sid (LiveKit always sends one; tolerated): the room's open lifetime, found by reading.
  const { ref, statements } = await ensureRoomSession(db, scoped, null, joinedAt);
  if (link) {
    statements.push(
      db
        .update(participantSessions)
        .set({ roomSessionId: sql`COALESCE(room_session_id, ${ref.id})`, ...(p.name ? { name: p.name } : {}) })
        .where(and(eq(participantSessions.participantSid, p.sid), eq(participantSessions.projectId, project.projectId))),
    );
  }
  return { statements: [...statements, recount(db, ref, joinedAt)], touch: null, seen: joined };
}

/**
 * The room-session statements of a batch's participant events, set-based (the touches travel as
 * JSON, `db/json-rows`), placed after every participant-session change of the batch so the
 * counters see them. The lifetimes are upserted before earlier ones are ended, so a lifetime first
 * seen in the same batch as its successor is ended by it as well.
 */
export function participantRoomSessions(db: Database, touches: readonly ParticipantTouch[]): BatchItem[] {
  if (touches.length === 0) return [];
  const at = nowMs();
  const starts = touches.map((t) => ({
    id: newId("roomSession"),
    projectId: t.projectId,
    orgId: t.orgId,
    room: t.room,
    roomSid: t.roomSid,
    startedAt: t.joinedAt,
    participantCount: 0,
    peakParticipants: 0,
    participantMinutes: 0,
    createdAt: at,
    updatedAt: at,
  }));
  // A sid already taken by another project's row changes nothing (and is not linked or recounted below).
  const upserts = insertRows(db, roomSessions, starts).map((insert) =>
    insert.onConflictDoUpdate({
      target: roomSessions.roomSid,
      set: { startedAt: sql`MIN(room_sessions.started_at, excluded.started_at)` },
      setWhere: sql`room_sessions.project_id = excluded.project_id`,
    }),
  );
  const lifetimes = jsonTable("lifetime", ["projectId", "room", "roomSid", "startedAt"], starts);
  const ended = db
    .update(roomSessions)
    .set({
      endedAt: END_AT_LAST_LEAVE,
      updatedAt: at,
    })
    .from(lifetimes.source)
    .where(
      and(
        eq(roomSessions.projectId, lifetimes.columns.projectId),
        eq(roomSessions.room, lifetimes.columns.room),
        STILL_OPEN,
        ne(roomSessions.roomSid, lifetimes.columns.roomSid),
        lt(roomSessions.startedAt, lifetimes.columns.startedAt),
      ),
    );
  // One link per participant: the last event's name wins, as it would one event after another.
  const linking = [...new Map(touches.filter((t) => t.link).map((t) => [`${t.projectId}\n${t.participantSid}`, t])).values()];
  const links = jsonTable("link", ["projectId", "participantSid", "roomSid", "name"], linking);
  const linked = linking.length === 0
    ? []
    : [
        db
          .update(participantSessions)
          .set({
            roomSessionId: sql`COALESCE(${participantSessions.roomSessionId}, (SELECT rs.id FROM room_sessions rs WHERE rs.room_sid = ${links.columns.roomSid} AND rs.project_id = ${links.columns.projectId}))`,
            name: sql`COALESCE(${links.columns.name}, ${participantSessions.name})`,
          })
          .from(links.source)
          .where(and(eq(participantSessions.participantSid, links.columns.participantSid), eq(participantSessions.projectId, links.columns.projectId))),
      ];
  const rooms = jsonTable("touched", ["projectId", "roomSid"], [...new Map(touches.map((t) => [`${t.projectId}\n${t.roomSid}`, { projectId: t.projectId, roomSid: t.roomSid }])).values()]);
  const joins = jsonTable("joined", ["projectId", "roomSid", "joinedAt"], touches);
  // The peak is checked at each of the batch's joins into the room session.
  const peak = sql`(SELECT MAX(${concurrentAt(joins.columns.joinedAt)}) FROM ${joins.source} WHERE ${joins.columns.roomSid} = room_sessions.room_sid AND ${joins.columns.projectId} = room_sessions.project_id)`;
  const recounted = db
    .update(roomSessions)
    .set(counters(peak))
    .from(rooms.source)
    .where(and(eq(roomSessions.roomSid, rooms.columns.roomSid), eq(roomSessions.projectId, rooms.columns.projectId)));
  return [...upserts, ended, ...linked, recounted];
}

/**
 * Cron: room lifetimes still open whose participants have all left more than `timeoutHours` ago
 * (the `room_finished` was lost) end at the last leave.
 */
export async function closeStaleRoomSessions(db: Database, timeoutHours: number, limit = 200): Promise<number> {
  const cutoff = nowMs() - timeoutHours * 3600_000;
  const stale = await db
    .select({ id: roomSessions.id })
    .from(roomSessions)
    .where(
      and(
        isNull(roomSessions.endedAt),
        lt(roomSessions.startedAt, cutoff),
        sql`NOT EXISTS (SELECT 1 FROM participant_sessions ps WHERE ps.room_session_id = room_sessions.id AND (ps.left_at IS NULL OR ps.left_at >= ${cutoff}))`,
      ),
    )
    .limit(limit)
    .all();
  await runBatch(
    db,
    stale.map((s) =>
      db
        .update(roomSessions)
        .set({
          endedAt: END_AT_LAST_LEAVE,
          updatedAt: nowMs(),
        })
        .where(and(eq(roomSessions.id, s.id), isNull(roomSessions.endedAt))),
    ),
  );
  return stale.length;
}
