/**
 * The timeout for participant sessions whose leave and room end were both lost: the hourly job
 * closes them at the last sign of life and recounts their room sessions. It lives with the room
 * sessions (not with metering) because it writes both.
 */
import { and, eq, gte, isNull, lt, max } from "drizzle-orm";
import { runBatch, type Database } from "../db/client";
import { livekitEvents, participantSessions } from "../db/schema";
import { nowMs } from "../lib/clock";
import { yieldToOtherWork } from "../lib/yield";
import { namespacedRoom } from "../livekit/rooms";
import { sessionStatements, type SessionClose } from "../usage/participant-sessions";
import { recountRoomSessions } from "./record";

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
