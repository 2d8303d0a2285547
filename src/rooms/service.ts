/**
 * Rooms and participants: LiveKit's live state, read and changed through its RoomService for one
 * project. Every room the tenant names is namespaced here (`namespacedRoom`) before LiveKit hears
 * it, and every room LiveKit answers with is checked back into the tenant's namespace, so a name
 * holding the separator, look-alike characters or `..` stays inside the caller's project.
 *
 * Changes are audited after LiveKit's answer, in one batch with Pulse's own record of the room
 * (`known_rooms`); when LiveKit fails nothing is recorded.
 *
 * Answers are LiveKit's own objects with the room's name already the tenant's: the REST routes
 * serialize them (`schemas.ts`), the Twirp API (`compat/rooms.ts`) hands them on as LiveKit's messages.
 */
import type { AuditActor } from "../audit/record";
import { auditEntry, SYSTEM_ACTOR } from "../audit/record";
import { checkQuota } from "../billing/quota";
import type { Config } from "../config";
import { runBatch, type Database } from "../db/client";
import { nowMs } from "../lib/clock";
import { conflict, notFound } from "../lib/errors";
import type { Logger } from "../lib/logger";
import * as livekit from "../livekit/room-service";
import type { LivekitParticipant, LivekitRoom, LivekitTrack, PermissionRequest } from "../livekit/room-service";
import { MAX_ROOM_NAME_LENGTH, namespacedRoom, roomOfProject } from "../livekit/rooms";
import { TwirpError } from "../livekit/twirp";
import { candidateRooms, decodeNameCursor, encodeNameCursor, forgetRoom, pruneRooms, rememberRooms } from "./known-rooms";
import { decodedLength, type CreateRoomBody, type PermissionBody, type SendDataBody, type UpdateParticipantBody } from "./schemas";
import type { z } from "@hono/zod-openapi";

export interface RoomDeps {
  db: Database;
  livekit: Config["livekit"];
  logger: Logger;
}

export interface RoomProject {
  projectId: string;
  orgId: string;
}

/** A name not refreshed for this long that LiveKit does not list is forgotten. */
const FORGET_AFTER_MS = 10 * 60_000;

/** LiveKit's `not_found` for a room or participant of this project: the tenant sees 404. */
async function orNotFound<T>(what: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof TwirpError && error.code === "not_found") throw notFound(what);
    throw error;
  }
}

/** A LiveKit room answer with the tenant's own name in place of the namespaced one. */
export type TenantRoom = LivekitRoom;
const asTenant = (room: LivekitRoom, name: string): TenantRoom => ({ ...room, name });

/** LiveKit answers at most this many names per ListRooms call from Pulse. */
const NAMES_PER_CALL = 100;

/** The live rooms among `names` (the tenant's own), in the order LiveKit answers. */
export async function liveRoomsNamed(deps: RoomDeps, project: RoomProject, names: string[]): Promise<TenantRoom[]> {
  const wanted = [...new Set(names)].filter((n) => n.length > 0 && n.length <= MAX_ROOM_NAME_LENGTH);
  const found: TenantRoom[] = [];
  for (let i = 0; i < wanted.length; i += NAMES_PER_CALL) {
    const chunk = wanted.slice(i, i + NAMES_PER_CALL);
    const live = await livekit.listRooms(deps.livekit, chunk.map((n) => namespacedRoom(project.projectId, n)), deps.logger);
    for (const r of live) {
      const name = roomOfProject(r.name, project.projectId);
      if (name !== null && chunk.includes(name)) found.push(asTenant(r, name));
    }
  }
  return found;
}

async function liveRoom(deps: RoomDeps, project: RoomProject, room: string) {
  return (await liveRoomsNamed(deps, project, [room]))[0] ?? null;
}

function audit(deps: RoomDeps, actor: AuditActor, project: RoomProject, action: string, room: string, metadata: Record<string, unknown>, at: number) {
  return auditEntry(
    deps.db,
    actor,
    { action, resourceType: "room", resourceId: room, orgId: project.orgId, projectId: project.projectId, metadata: { room, ...metadata } },
    at,
  );
}

/** The audit entry of a change LiveKit made, with the room remembered as live. */
function recordChange(deps: RoomDeps, actor: AuditActor, project: RoomProject, action: string, room: string, metadata: Record<string, unknown>) {
  const at = nowMs();
  return runBatch(deps.db, [...rememberRooms(deps.db, [{ projectId: project.projectId, name: room, lastSeenAt: at }]), audit(deps, actor, project, action, room, metadata, at)]);
}

/** A room consumes participant minutes: a hard-capped plan with none left cannot create one. */
const ROOM_METERS = ["participant_minutes"] as const;

export async function createRoom(deps: RoomDeps, project: RoomProject, actor: AuditActor, body: z.infer<typeof CreateRoomBody>) {
  await checkQuota(deps, project.orgId, ROOM_METERS);
  // LiveKit's CreateRoom returns an existing room as if it had made it: ask first.
  if (await liveRoom(deps, project, body.name)) throw conflict(`Room '${body.name}' is live already.`);
  const created = await livekit.createRoom(
    deps.livekit,
    {
      name: namespacedRoom(project.projectId, body.name),
      emptyTimeout: body.empty_timeout,
      departureTimeout: body.departure_timeout,
      maxParticipants: body.max_participants,
      metadata: body.metadata,
    },
    deps.logger,
  );
  await recordChange(deps, actor, project, "room.created", body.name, { sid: created.sid });
  return asTenant(created, body.name);
}

export async function listRooms(deps: RoomDeps, project: RoomProject, query: { limit: number; cursor?: string }): Promise<{ rooms: TenantRoom[]; next_cursor: string | null }> {
  const after = query.cursor ? decodeNameCursor(query.cursor) : null;
  const checkedAt = nowMs();
  const candidates = await candidateRooms(deps.db, project.projectId, after, query.limit + 1);
  const pageNames = candidates.slice(0, query.limit);
  const wanted = new Set(pageNames.map((c) => c.name));
  const live = await livekit.listRooms(deps.livekit, pageNames.map((c) => namespacedRoom(project.projectId, c.name)), deps.logger);
  const rooms = live
    .map((r) => ({ r, name: roomOfProject(r.name, project.projectId) }))
    .filter((x): x is { r: (typeof live)[number]; name: string } => x.name !== null && wanted.has(x.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ r, name }) => asTenant(r, name));
  const listed = new Set(rooms.map((d) => d.name));
  await pruneRooms(deps.db, project.projectId, pageNames.filter((c) => !listed.has(c.name)).map((c) => c.name), checkedAt - FORGET_AFTER_MS);
  const last = pageNames[pageNames.length - 1];
  return { rooms, next_cursor: candidates.length > query.limit && last ? encodeNameCursor(last.name) : null };
}

export async function getRoom(deps: RoomDeps, project: RoomProject, room: string) {
  const found = await liveRoom(deps, project, room);
  if (!found) throw notFound("Room");
  return found;
}

export async function updateRoomMetadata(deps: RoomDeps, project: RoomProject, actor: AuditActor, room: string, metadata: string) {
  const updated = await orNotFound("Room", livekit.updateRoomMetadata(deps.livekit, namespacedRoom(project.projectId, room), metadata, deps.logger));
  await recordChange(deps, actor, project, "room.metadata_updated", room, { metadata_bytes: new TextEncoder().encode(metadata).byteLength });
  return asTenant(updated, room);
}

export async function deleteRoom(deps: RoomDeps, project: RoomProject, actor: AuditActor, room: string) {
  if (!(await removeRoom(deps, project, actor, room, {}))) throw notFound("Room");
}

/**
 * Deletes a room of a deleted project in LiveKit (for its teardown, `projects/livekit-teardown.ts`),
 * audited by the system with the reason. A room LiveKit no longer has is only forgotten. The name
 * stays remembered when it was seen again after `seenAt` (a join since), for the next sweep.
 */
export async function deleteRoomOfDeletedProject(deps: RoomDeps, project: RoomProject, room: string, seenAt: number): Promise<"deleted" | "gone"> {
  if (await removeRoom(deps, project, SYSTEM_ACTOR, room, { reason: "project_deleted" }, seenAt)) return "deleted";
  await runBatch(deps.db, [forgetRoom(deps.db, project.projectId, room, seenAt)]);
  return "gone";
}

/**
 * Deletes the room in LiveKit, then forgets its name (unless seen after `seenBefore`, default now)
 * with its audit entry. False when LiveKit did not have it: nothing is changed or audited.
 */
async function removeRoom(deps: RoomDeps, project: RoomProject, actor: AuditActor, room: string, metadata: Record<string, unknown>, seenBefore?: number): Promise<boolean> {
  try {
    await livekit.deleteRoom(deps.livekit, namespacedRoom(project.projectId, room), deps.logger);
  } catch (error) {
    if (error instanceof TwirpError && error.code === "not_found") return false;
    throw error;
  }
  const at = nowMs();
  await runBatch(deps.db, [forgetRoom(deps.db, project.projectId, room, seenBefore ?? at), audit(deps, actor, project, "room.deleted", room, metadata, at)]);
  return true;
}

/**
 * Every live participant of the room, in LiveKit's order (LiveKit's own ListParticipants does not
 * page). LiveKit answers an empty list for a room it does not have, so an empty answer is checked
 * against the room itself: a room that is not live (another project's name included) is a 404.
 */
export async function listParticipants(deps: RoomDeps, project: RoomProject, room: string): Promise<LivekitParticipant[]> {
  const participants = await orNotFound("Room", livekit.listParticipants(deps.livekit, namespacedRoom(project.projectId, room), deps.logger));
  if (participants.length === 0 && !(await liveRoom(deps, project, room))) throw notFound("Room");
  return participants;
}

/**
 * One page of the room's live participants by identity, as the API's lists page: identities are
 * unique in a room and stable while a participant stays, so a participant who joins or leaves
 * between pages never shifts the others.
 */
export async function pageParticipants(
  deps: RoomDeps,
  project: RoomProject,
  room: string,
  query: { limit: number; cursor?: string },
): Promise<{ participants: LivekitParticipant[]; next_cursor: string | null }> {
  const after = query.cursor ? decodeNameCursor(query.cursor) : null;
  const sorted = (await listParticipants(deps, project, room))
    .filter((p) => after === null || p.identity > after)
    .sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
  const participants = sorted.slice(0, query.limit);
  const last = participants[participants.length - 1];
  return { participants, next_cursor: sorted.length > query.limit && last ? encodeNameCursor(last.identity) : null };
}

export function getParticipant(deps: RoomDeps, project: RoomProject, room: string, identity: string): Promise<LivekitParticipant> {
  return orNotFound("Participant", livekit.getParticipant(deps.livekit, namespacedRoom(project.projectId, room), identity, deps.logger));
}

const SOURCE_NAMES = ["UNKNOWN", "CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"];

/**
 * LiveKit replaces the whole permission object: the current one (read just before) with the
 * tenant's fields laid over it, keeping what the tenant may not touch (`recorder`, `agent`, …).
 */
export function mergePermission(current: LivekitParticipant["permission"], change: PermissionBody): PermissionRequest {
  const sources = (current?.can_publish_sources ?? []).map((s) => (typeof s === "number" ? (SOURCE_NAMES[s] ?? "UNKNOWN") : String(s).toUpperCase()));
  return {
    canSubscribe: change.can_subscribe ?? current?.can_subscribe ?? false,
    canPublish: change.can_publish ?? current?.can_publish ?? false,
    canPublishData: change.can_publish_data ?? current?.can_publish_data ?? false,
    canPublishSources: change.can_publish_sources ? change.can_publish_sources.map((s) => s.toUpperCase()) : sources,
    hidden: change.hidden ?? current?.hidden ?? false,
    recorder: current?.recorder ?? false,
    canUpdateMetadata: current?.can_update_metadata ?? false,
    agent: current?.agent ?? false,
    canSubscribeMetrics: current?.can_subscribe_metrics ?? false,
  };
}

export async function updateParticipant(
  deps: RoomDeps,
  project: RoomProject,
  actor: AuditActor,
  room: string,
  identity: string,
  body: z.infer<typeof UpdateParticipantBody>,
) {
  const wire = namespacedRoom(project.projectId, room);
  let permission: PermissionRequest | undefined;
  if (body.permission) {
    const current = await orNotFound("Participant", livekit.getParticipant(deps.livekit, wire, identity, deps.logger));
    permission = mergePermission(current.permission, body.permission);
  }
  const updated = await orNotFound(
    "Participant",
    livekit.updateParticipant(deps.livekit, wire, identity, { name: body.name, metadata: body.metadata, attributes: body.attributes, permission }, deps.logger),
  );
  const fields = Object.keys(body).filter((k) => body[k as keyof typeof body] !== undefined).sort();
  await recordChange(deps, actor, project, "participant.updated", room, { identity, fields });
  return updated;
}

export async function removeParticipant(deps: RoomDeps, project: RoomProject, actor: AuditActor, room: string, identity: string) {
  await orNotFound("Participant", livekit.removeParticipant(deps.livekit, namespacedRoom(project.projectId, room), identity, deps.logger));
  await recordChange(deps, actor, project, "participant.removed", room, { identity });
}

export async function muteTrack(
  deps: RoomDeps,
  project: RoomProject,
  actor: AuditActor,
  room: string,
  identity: string,
  body: { track_sid: string; muted: boolean },
): Promise<LivekitTrack> {
  const wire = namespacedRoom(project.projectId, room);
  const track = await orNotFound("Track", livekit.mutePublishedTrack(deps.livekit, wire, identity, { trackSid: body.track_sid, muted: body.muted }, deps.logger));
  await recordChange(deps, actor, project, "participant.muted", room, { identity, track_sid: body.track_sid, muted: body.muted });
  return track;
}

export async function sendData(deps: RoomDeps, project: RoomProject, actor: AuditActor, room: string, body: z.infer<typeof SendDataBody>) {
  await orNotFound(
    "Room",
    livekit.sendData(
      deps.livekit,
      namespacedRoom(project.projectId, room),
      { data: body.data, kind: body.reliable ? "RELIABLE" : "LOSSY", topic: body.topic, destinationIdentities: body.destination_identities },
      deps.logger,
    ),
  );
  await recordChange(deps, actor, project, "room.data_sent", room, {
    bytes: decodedLength(body.data),
    topic: body.topic ?? null,
    destination_identities: body.destination_identities?.length ?? 0,
  });
}
