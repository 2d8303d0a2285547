/**
 * Which project each LiveKit event of a batch belongs to, in at most three queries for the whole
 * batch: by its namespaced room (`<project_id>:<room>`), or, for web egress without a room, by our
 * own egress/ingress record of the LiveKit id. Rooms outside any live project attribute to null
 * (the event is stored and ignored).
 */
import { eq, inArray } from "drizzle-orm";
import { chunks, type Database } from "../db/client";
import { egresses, ingresses, organizations, projects } from "../db/schema";
import { protoString } from "../lib/protojson";
import { parseNamespacedRoom } from "../livekit/rooms";
import { eventRoomName, type LivekitWebhookEvent } from "../livekit/webhook-event";
import type { ProjectRef } from "../usage/participant-sessions";

export interface Attribution extends ProjectRef {
  /** The tenant's own room name, when the event names one. */
  room: string | null;
}

interface ProjectState extends ProjectRef {
  live: boolean;
}

async function projectStates(db: Database, ids: string[]): Promise<Map<string, ProjectState>> {
  const states = new Map<string, ProjectState>();
  for (const slice of chunks([...new Set(ids)])) {
    const rows = await db
      .select({ projectId: projects.id, orgId: projects.orgId, deletedAt: projects.deletedAt, orgDeletedAt: organizations.deletedAt })
      .from(projects)
      .innerJoin(organizations, eq(organizations.id, projects.orgId))
      .where(inArray(projects.id, slice))
      .all();
    for (const r of rows) states.set(r.projectId, { projectId: r.projectId, orgId: r.orgId, live: r.deletedAt === null && r.orgDeletedAt === null });
  }
  return states;
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

/** Attributions in the order of `events`. */
export async function attributeEvents(db: Database, events: readonly LivekitWebhookEvent[]): Promise<(Attribution | null)[]> {
  const rooms = events.map((event) => {
    const name = eventRoomName(event);
    return { name, parsed: name ? parseNamespacedRoom(name) : null };
  });
  const roomless = events.filter((_, i) => !rooms[i]!.name);
  const owners = await recordOwners(
    db,
    roomless.map((e) => protoString(e.egressInfo, "egressId")).filter((id): id is string => !!id),
    roomless.map((e) => protoString(e.ingressInfo, "ingressId")).filter((id): id is string => !!id),
  );
  const projectIdOf = events.map((event, i) => {
    const { name, parsed } = rooms[i]!;
    if (parsed) return parsed.projectId;
    if (name) return null;
    const recordId = protoString(event.egressInfo, "egressId") ?? protoString(event.ingressInfo, "ingressId");
    return recordId ? (owners.get(recordId) ?? null) : null;
  });
  const states = await projectStates(db, projectIdOf.filter((id): id is string => id !== null));
  return events.map((event, i) => {
    const state = projectIdOf[i] ? states.get(projectIdOf[i]!) : undefined;
    if (!state) return null;
    // Egress and ingress outlive their project by a moment: deleting it stops them (projects/
    // livekit-teardown.ts), and their final events must still close the record and meter its
    // minutes. Its webhook endpoints are gone with it, so nothing is delivered.
    const finishing = event.event.startsWith("egress_") || event.event.startsWith("ingress_");
    if (!state.live && !finishing) return null;
    return { projectId: state.projectId, orgId: state.orgId, room: rooms[i]!.parsed?.room ?? null };
  });
}
