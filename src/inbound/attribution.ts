/**
 * Which project each LiveKit event of a batch belongs to: by its namespaced room
 * (`<project_id>:<room>`), or, for web egress without a room, by our own egress/ingress record of
 * the LiveKit id; then by the state of that project, read for the whole batch in one statement
 * that the consumer sends with its other look-ups. Rooms outside any project attribute to null
 * (the event is stored and ignored); a deleted project's events to it, not live (`outlivesProject`).
 */
import { eq, inArray, sql } from "drizzle-orm";
import { chunks, type BatchRead, type Database } from "../db/client";
import { jsonValues } from "../db/json-rows";
import { egresses, ingresses, organizations, projects } from "../db/schema";
import { protoString } from "../lib/protojson";
import { parseNamespacedRoom } from "../livekit/rooms";
import { eventRoomName, type LivekitWebhookEvent } from "../livekit/webhook-event";
import type { ProjectRef } from "../usage/participant-sessions";

export interface Attribution extends ProjectRef {
  /** The tenant's own room name, when the event names one. */
  room: string | null;
  /** False for an event after its project's (or org's) deletion: only what outlives it takes effect (`outlivesProject`). */
  live: boolean;
}

/** The events that end a participant's session. */
export const LEAVES: ReadonlySet<string> = new Set(["participant_left", "participant_connection_aborted"]);

/**
 * The events after a project's deletion that still take effect. Its egresses, ingresses and rooms outlive
 * it by a moment: deleting it stops them (projects/livekit-teardown.ts), and their final events
 * must still close the records and sessions and meter their minutes. Its webhook endpoints are gone
 * with it, so nothing is delivered. Anything else of it (a join with a token minted before the
 * deletion, a room LiveKit created for it) opens and meters nothing; its room is only remembered,
 * so the teardown deletes it in LiveKit.
 */
export function outlivesProject(event: Pick<LivekitWebhookEvent, "event">): boolean {
  return event.event.startsWith("egress_") || event.event.startsWith("ingress_") || LEAVES.has(event.event) || event.event === "room_finished";
}

export interface ProjectState extends ProjectRef {
  /** When the project (or its org) was deleted; null while it lives. */
  deletedAt: number | null;
}

/** The states of projects `ids` (one statement however many: the ids travel as one JSON parameter). */
export function projectStatesRead(db: Database, ids: readonly string[]): BatchRead<Map<string, ProjectState>> {
  return {
    // The deletion in SQL, under its own name: a batch's rows come back keyed by column name, so
    // two `deleted_at`s would collapse into one (an org's deletion sets its projects' as well, so
    // the project's comes first). The organization by a correlated look-up on its key, not a
    // join: joined, the planner may scan both tables rather than search by the ids.
    statement: db
      .select({
        projectId: projects.id,
        orgId: projects.orgId,
        deletedAt: sql<number | null>`COALESCE(${projects.deletedAt}, (SELECT ${organizations.deletedAt} FROM ${organizations} WHERE ${organizations.id} = ${projects.orgId}))`.as(
          "deleted_since",
        ),
      })
      .from(projects)
      .where(inArray(projects.id, jsonValues([...new Set(ids)]))),
    read(rows) {
      const states = new Map<string, ProjectState>();
      for (const r of rows as { projectId: string; orgId: string; deletedAt: number | null }[]) states.set(r.projectId, { projectId: r.projectId, orgId: r.orgId, deletedAt: r.deletedAt });
      return states;
    },
  };
}

/** LiveKit egress/ingress id → the project whose record it is (web egress has no room to go by). */
async function recordOwners(db: Database, egressIds: string[], ingressIds: string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const slice of chunks([...new Set(egressIds)])) {
    const rows = await db.select({ id: egresses.egressId, projectId: egresses.projectId }).from(egresses).where(inArray(egresses.egressId, slice)).all();
    for (const r of rows) owners.set(r.id, r.projectId);
  }
  for (const slice of chunks([...new Set(ingressIds)])) {
    const rows = await db.select({ id: ingresses.ingressId, projectId: ingresses.projectId }).from(ingresses).where(inArray(ingresses.ingressId, slice)).all();
    for (const r of rows) owners.set(r.id, r.projectId);
  }
  return owners;
}

/**
 * The project each event names, in the order of `events` (null: none): from its namespaced room,
 * or for an event without a room from our egress/ingress record (a query only then).
 */
export async function projectsNamed(db: Database, events: readonly LivekitWebhookEvent[]): Promise<(string | null)[]> {
  const roomless = events.filter((event) => !eventRoomName(event));
  const owners = await recordOwners(
    db,
    roomless.map((e) => protoString(e.egressInfo, "egressId")).filter((id): id is string => !!id),
    roomless.map((e) => protoString(e.ingressInfo, "ingressId")).filter((id): id is string => !!id),
  );
  return events.map((event) => {
    const name = eventRoomName(event);
    if (name) return parseNamespacedRoom(name)?.projectId ?? null;
    const recordId = protoString(event.egressInfo, "egressId") ?? protoString(event.ingressInfo, "ingressId");
    return recordId ? (owners.get(recordId) ?? null) : null;
  });
}

/**
 * Attributions in the order of `events` (which happened at `occurredAt`), from `projectsNamed` and
 * the states of those projects (`projectStatesRead`). An event is the live project's when it
 * happened before the deletion, however late it is processed (a join just before it still meters).
 */
export function attributionsOf(
  events: readonly { event: LivekitWebhookEvent; occurredAt: number }[],
  named: readonly (string | null)[],
  states: Map<string, ProjectState>,
): (Attribution | null)[] {
  return events.map(({ event, occurredAt }, i) => {
    const state = named[i] ? states.get(named[i]!) : undefined;
    if (!state) return null;
    const name = eventRoomName(event);
    // LiveKit's times are whole seconds: an event in the deletion's own second counts as after it.
    const live = state.deletedAt === null || occurredAt < Math.floor(state.deletedAt / 1000) * 1000;
    return { projectId: state.projectId, orgId: state.orgId, room: name ? (parseNamespacedRoom(name)?.room ?? null) : null, live };
  });
}
