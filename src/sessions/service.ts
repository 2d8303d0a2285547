/**
 * Reading room sessions (history, from D1; no LiveKit call). The list walks
 * `room_sessions_project_started_idx` (or the room one) newest first with a keyset cursor on
 * (started_at, id), so a page costs the same at a million sessions as at ten.
 */
import { and, asc, eq, getTableColumns, gte, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { participantSessions, roomSessions } from "../db/schema";
import { notFound } from "../lib/errors";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { serializeSession, serializeSessionDetail } from "./schemas";

/** Participant sessions returned with one room session. */
export const MAX_DETAIL_PARTICIPANTS = 1000;

/** Minutes of the project's egresses of this room that started during the session (ended ones). */
const egressMinutes = sql<number>`(SELECT COALESCE(SUM((e.ended_at - e.started_at + 59999) / 60000), 0) FROM egresses e
  WHERE e.project_id = room_sessions.project_id AND e.room = room_sessions.room
    AND e.started_at >= room_sessions.started_at AND e.started_at < COALESCE(room_sessions.ended_at, 9007199254740991)
    AND e.ended_at IS NOT NULL)`;

const columns = { ...getTableColumns(roomSessions), egressMinutes };


export function sessionListQuery(
  db: Database,
  projectId: string,
  query: { limit: number; cursor?: string; room?: string; since?: string; until?: string },
) {
  return db
    .select(columns)
    .from(roomSessions)
    .where(
      and(
        eq(roomSessions.projectId, projectId),
        query.room === undefined ? undefined : eq(roomSessions.room, query.room),
        query.since === undefined ? undefined : gte(roomSessions.startedAt, Date.parse(query.since)),
        query.until === undefined ? undefined : lt(roomSessions.startedAt, Date.parse(query.until)),
        afterCursor(query.cursor, roomSessions.startedAt, roomSessions.id),
      ),
    )
    .orderBy(...newestFirst(roomSessions.startedAt, roomSessions.id))
    .limit(query.limit + 1);
}

export async function listSessions(db: Database, projectId: string, query: Parameters<typeof sessionListQuery>[2]) {
  const rows = await sessionListQuery(db, projectId, query).all();
  const result = page(rows.map((r) => ({ ...r, createdAt: r.startedAt })), query.limit);
  return { data: result.rows.map(serializeSession), next_cursor: result.nextCursor };
}

export async function getSession(db: Database, projectId: string, id: string) {
  const row = await db
    .select(columns)
    .from(roomSessions)
    .where(and(eq(roomSessions.id, id), eq(roomSessions.projectId, projectId)))
    .get();
  if (!row) throw notFound("Session");
  const participants = await db
    .select()
    .from(participantSessions)
    .where(and(eq(participantSessions.roomSessionId, row.id), eq(participantSessions.projectId, projectId)))
    .orderBy(asc(participantSessions.joinedAt))
    .limit(MAX_DETAIL_PARTICIPANTS)
    .all();
  return serializeSessionDetail(row, participants);
}
