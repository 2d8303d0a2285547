/**
 * The room names a project may have live in LiveKit (`known_rooms`): remembered from its CreateRoom
 * calls and `room_started` events, forgotten when the room finishes or is deleted. `GET /v1/rooms`
 * asks LiveKit's `ListRooms` for exactly these names, so no answer can carry another tenant's room.
 */
import { and, asc, eq, gt, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { insertRows, jsonValues } from "../db/json-rows";
import { knownRooms, projects } from "../db/schema";
import { base64UrlToBytes, bytesToBase64Url } from "../lib/base64";
import { ApiError } from "../lib/errors";

export interface SeenRoom {
  projectId: string;
  name: string;
  lastSeenAt: number;
}

/**
 * Remember (or refresh) names, for the caller's batch: one set-based statement whatever their
 * number (a busy batch of LiveKit events has a join per participant, most into the same rooms).
 * A name keeps the latest time it was seen.
 */
export function rememberRooms(db: Database, seen: readonly SeenRoom[]): BatchItem[] {
  const latest = new Map<string, SeenRoom>();
  for (const room of seen) {
    const key = `${room.projectId}\n${room.name}`;
    const known = latest.get(key);
    if (!known || known.lastSeenAt < room.lastSeenAt) latest.set(key, { projectId: room.projectId, name: room.name, lastSeenAt: room.lastSeenAt });
  }
  return insertRows(db, knownRooms, [...latest.values()]).map((insert) =>
    insert.onConflictDoUpdate({
      target: [knownRooms.projectId, knownRooms.name],
      set: { lastSeenAt: sql`MAX(${knownRooms.lastSeenAt}, excluded.last_seen_at)` },
    }),
  );
}

/**
 * Forget a name, unless it was seen again after `seenBefore` (a `room_finished` arriving after the
 * room was created anew must not hide the new room).
 */
export function forgetRoom(db: Database, projectId: string, name: string, seenBefore: number): BatchItem {
  return db
    .delete(knownRooms)
    .where(and(eq(knownRooms.projectId, projectId), eq(knownRooms.name, name), lt(knownRooms.lastSeenAt, seenBefore + 1)));
}

/**
 * Up to `limit` names still remembered for deleted projects (all of them, or of `projectIds`),
 * after `after` in (project, name) order: the rooms their teardown has yet to delete in LiveKit.
 * From the deleted projects (a partial index of them) to their names, never through the names of
 * live projects.
 */
export function roomsOfDeletedProjects(db: Database, limit: number, opts: { projectIds?: readonly string[]; after?: { projectId: string; name: string } } = {}) {
  const { projectIds, after } = opts;
  return db
    .select({ projectId: knownRooms.projectId, orgId: projects.orgId, name: knownRooms.name, lastSeenAt: knownRooms.lastSeenAt })
    .from(projects)
    .innerJoin(knownRooms, eq(knownRooms.projectId, projects.id))
    .where(
      and(
        isNotNull(projects.deletedAt),
        projectIds ? inArray(projects.id, jsonValues(projectIds)) : undefined,
        after ? or(gt(knownRooms.projectId, after.projectId), and(eq(knownRooms.projectId, after.projectId), gt(knownRooms.name, after.name))) : undefined,
      ),
    )
    .orderBy(asc(knownRooms.projectId), asc(knownRooms.name))
    .limit(limit)
    .all();
}

/** Names after `after` (ascending), at most `limit`. */
export function candidateRooms(db: Database, projectId: string, after: string | null, limit: number) {
  return db
    .select({ name: knownRooms.name, lastSeenAt: knownRooms.lastSeenAt })
    .from(knownRooms)
    .where(and(eq(knownRooms.projectId, projectId), after === null ? undefined : gt(knownRooms.name, after)))
    .orderBy(asc(knownRooms.name))
    .limit(limit)
    .all();
}

/** Drops names LiveKit no longer knows (checked just now) that nothing refreshed since `seenBefore`. */
export function pruneRooms(db: Database, projectId: string, names: string[], seenBefore: number) {
  if (names.length === 0) return Promise.resolve();
  return db
    .delete(knownRooms)
    .where(and(eq(knownRooms.projectId, projectId), inArray(knownRooms.name, jsonValues(names)), lt(knownRooms.lastSeenAt, seenBefore)))
    .run()
    .then(() => undefined);
}

/** Cursors of lists ordered by a name (rooms, a room's participants by identity): the last one returned, opaque to clients. A leading U+FEFF is part of the name (`ignoreBOM`), not stripped. */
export function encodeNameCursor(name: string): string {
  return bytesToBase64Url(new TextEncoder().encode(name));
}

export function decodeNameCursor(cursor: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(base64UrlToBytes(cursor));
  } catch {
    throw new ApiError("validation_failed", "Invalid cursor.", { details: [{ path: "cursor", message: "Invalid cursor" }] });
  }
}
