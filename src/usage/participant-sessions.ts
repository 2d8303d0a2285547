/**
 * Participant sessions and participant-minute metering. A session opens on `participant_joined`
 * and closes on `participant_left`, `participant_connection_aborted`, `room_finished`, or (when
 * LiveKit's events were lost) the stale-session job. Closing meters the session once, rounded up
 * to whole minutes, idempotently by the participant sid (LiveKit's sid is unique per session).
 *
 * Everything returns statements for the caller's batch; a close is guarded by `left_at IS NULL`,
 * and the usage insert is idempotent, so a duplicate or racing close meters nothing twice.
 */
import { and, eq, gte, inArray, isNull, lt, max, or } from "drizzle-orm";
import { chunks, runBatch, type BatchItem, type Database } from "../db/client";
import { livekitEvents, participantSessions } from "../db/schema";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { namespacedRoom } from "../livekit/rooms";
import { yieldToOtherWork } from "../lib/yield";
import { billableMinutes, usageEventInsert } from "./record";

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

export function openSession(db: Database, project: ProjectRef, p: ParticipantRef, joinedAt: number): BatchItem {
  const at = nowMs();
  return db
    .insert(participantSessions)
    .values({ id: newId("participantSession"), ...project, ...p, joinedAt, createdAt: at, updatedAt: at })
    .onConflictDoNothing({ target: participantSessions.participantSid });
}

function closeStatements(
  db: Database,
  session: Pick<SessionRow, "id" | "projectId" | "orgId" | "participantSid" | "joinedAt" | "room" | "identity">,
  leftAt: number,
  reason: EndReason,
): BatchItem[] {
  const minutes = billableMinutes(session.joinedAt, leftAt);
  const statements: BatchItem[] = [
    db
      .update(participantSessions)
      .set({ leftAt, minutes, endReason: reason, updatedAt: nowMs() })
      // By the participant sid, not our row id: a leave processed while its join was being written
      // (concurrent batches) closes the join's row rather than missing it.
      .where(and(eq(participantSessions.participantSid, session.participantSid), eq(participantSessions.projectId, session.projectId), isNull(participantSessions.leftAt))),
  ];
  if (minutes > 0) {
    statements.push(
      usageEventInsert(db, {
        projectId: session.projectId,
        orgId: session.orgId,
        meter: "participant_minutes",
        quantity: minutes,
        occurredAt: leftAt,
        sourceId: session.participantSid,
        room: session.room,
        identity: session.identity,
      }),
    );
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
  /** The session as already read by the caller (`sessionsBySid`, for a batch of events); read here when absent. */
  known?: SessionRow | null,
): Promise<BatchItem[]> {
  const existing =
    known !== undefined
      ? known
      : await db
          .select()
          .from(participantSessions)
          .where(and(eq(participantSessions.participantSid, p.participantSid), eq(participantSessions.projectId, project.projectId)))
          .get();
  if (existing) return existing.leftAt === null ? closeStatements(db, existing, at.leftAt, reason) : [];
  const created = nowMs();
  const session = { id: newId("participantSession"), ...project, ...p, joinedAt: at.joinedAt ?? at.leftAt, createdAt: created, updatedAt: created };
  return [
    db.insert(participantSessions).values(session).onConflictDoNothing({ target: participantSessions.participantSid }),
    ...closeStatements(db, session, at.leftAt, reason),
  ];
}

/** The sessions of these participant sids (one query per 90 sids), for closing a batch of leaves. */
export async function sessionsBySid(db: Database, sids: string[]): Promise<Map<string, SessionRow>> {
  const found = new Map<string, SessionRow>();
  for (const slice of chunks([...new Set(sids)])) {
    for (const row of await db.select().from(participantSessions).where(inArray(participantSessions.participantSid, slice)).all()) found.set(row.participantSid, row);
  }
  return found;
}

/** `room_finished`: every session still open in that room ends with it. */
export async function closeRoomSessions(db: Database, project: ProjectRef, room: { room: string; roomSid: string | null }, leftAt: number): Promise<BatchItem[]> {
  const open = await db
    .select()
    .from(participantSessions)
    .where(
      and(
        eq(participantSessions.projectId, project.projectId),
        // This instance of the room by sid; sessions opened without a sid by name.
        room.roomSid
          ? or(eq(participantSessions.roomSid, room.roomSid), and(isNull(participantSessions.roomSid), eq(participantSessions.room, room.room)))
          : eq(participantSessions.room, room.room),
        isNull(participantSessions.leftAt),
      ),
    )
    .all();
  return open.flatMap((s) => closeStatements(db, s, Math.max(leftAt, s.joinedAt), "room_finished"));
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
    const statements = stale.flatMap((s, i) => {
      const last = lastSeen[i]?.[0]?.at ?? s.joinedAt;
      return closeStatements(db, s, Math.min(Math.max(last, s.joinedAt), s.joinedAt + timeoutMs), "timeout");
    });
    await runBatch(db, statements);
    closed += stale.length;
    if (stale.length < pageSize) break;
    await yieldToOtherWork();
  }
  return closed;
}
