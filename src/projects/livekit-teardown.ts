/**
 * What a deleted project still has running on the shared LiveKit deployment: active egresses keep
 * recording, ingress stream keys keep letting anyone who holds one publish into its rooms, and its
 * rooms keep their participants (and take new ones: a token it minted stays valid until it expires,
 * and LiveKit creates a room on a join). After a project (or its org) is deleted, this stops every
 * active egress, deletes every ingress and deletes every room Pulse knows of in LiveKit; a room
 * started or joined later is remembered by the inbound processor and deleted by the next run. It
 * runs right after the delete (waitUntil) and again from the five-minute cron, which picks up
 * whatever LiveKit could not be reached for, so nothing of a deleted tenant stays live.
 */
import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import { auditEntry, SYSTEM_ACTOR } from "../audit/record";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { jsonValues } from "../db/json-rows";
import { runBatch } from "../db/client";
import { egresses, ingresses, projects } from "../db/schema";
import { reconcileEgress } from "../egress/events";
import { stopEgress } from "../egress/livekit";
import { deleteIngress } from "../ingress/livekit";
import { nowMs } from "../lib/clock";
import type { Logger } from "../lib/logger";
import { TwirpError } from "../livekit/twirp";
import { roomsOfDeletedProjects } from "../rooms/known-rooms";
import { deleteRoomOfDeletedProject } from "../rooms/service";

const ACTIVE_EGRESS = ["EGRESS_STARTING", "EGRESS_ACTIVE"];
/** Per run, so one sweep stays well inside a Worker's subrequest and time limits. */
export const TEARDOWN_BATCH = 25;
/** Rooms are many and each is one quick call: up to this many per run, in pages of TEARDOWN_BATCH. */
export const TEARDOWN_ROOM_CALLS = 200;

/** LiveKit no longer has it, or it already ended: nothing left to stop. */
function alreadyGone(error: unknown): boolean {
  return error instanceof TwirpError && (error.twirpCode === "not_found" || error.twirpCode === "failed_precondition");
}

export async function tearDownDeletedProjects(
  db: Database,
  livekit: Config["livekit"],
  logger: Logger,
  projectIds?: string[],
): Promise<{ egressesStopped: number; ingressesDeleted: number; roomsDeleted: number; failures: number }> {
  const deletedProject = and(isNotNull(projects.deletedAt), projectIds ? inArray(projects.id, jsonValues(projectIds)) : undefined);
  const [liveEgresses, liveIngresses] = await Promise.all([
    db
      .select({ egress: egresses })
      .from(egresses)
      .innerJoin(projects, eq(projects.id, egresses.projectId))
      .where(and(deletedProject, inArray(egresses.status, ACTIVE_EGRESS)))
      .limit(TEARDOWN_BATCH)
      .all(),
    db
      .select({ ingress: ingresses })
      .from(ingresses)
      .innerJoin(projects, eq(projects.id, ingresses.projectId))
      .where(and(deletedProject, isNull(ingresses.deletedAt)))
      .limit(TEARDOWN_BATCH)
      .all(),
  ]);
  let egressesStopped = 0;
  let ingressesDeleted = 0;
  let failures = 0;

  for (const { egress } of liveEgresses) {
    const project = { projectId: egress.projectId, orgId: egress.orgId };
    let info: Record<string, unknown>;
    try {
      info = await stopEgress(livekit, egress.egressId, logger);
    } catch (error) {
      if (!alreadyGone(error)) {
        failures++;
        logger.warn("teardown_egress_failed", { egress_id: egress.id, error_message: (error as Error).message });
        continue;
      }
      // Ended on LiveKit's side already; its egress_ended event may have been ignored (project deleted).
      info = { status: "EGRESS_ABORTED" };
    }
    const at = nowMs();
    const { statements } = reconcileEgress(db, project, egress, info, at);
    await runBatch(db, [
      ...statements,
      auditEntry(db, SYSTEM_ACTOR, { action: "egress.stopped", resourceType: "egress", resourceId: egress.id, ...project, metadata: { reason: "project_deleted" } }, at),
    ]);
    egressesStopped++;
  }

  for (const { ingress } of liveIngresses) {
    try {
      await deleteIngress(livekit, ingress.ingressId, logger);
    } catch (error) {
      if (!alreadyGone(error)) {
        failures++;
        logger.warn("teardown_ingress_failed", { ingress_id: ingress.id, error_message: (error as Error).message });
        continue;
      }
    }
    const at = nowMs();
    await runBatch(db, [
      db.update(ingresses).set({ deletedAt: at, updatedAt: at }).where(and(eq(ingresses.id, ingress.id), isNull(ingresses.deletedAt))),
      auditEntry(
        db,
        SYSTEM_ACTOR,
        { action: "ingress.deleted", resourceType: "ingress", resourceId: ingress.id, projectId: ingress.projectId, orgId: ingress.orgId, metadata: { reason: "project_deleted" } },
        at,
      ),
    ]);
    ingressesDeleted++;
  }

  // Rooms last: their egresses are stopped first, so a recording ends as stopped, not as its room's
  // end. Page after page (a room that keeps failing does not hold back the rest), up to a bound.
  let roomsDeleted = 0;
  let after: { projectId: string; name: string } | undefined;
  for (let calls = 0; calls < TEARDOWN_ROOM_CALLS; ) {
    const page = await roomsOfDeletedProjects(db, TEARDOWN_BATCH, { projectIds, after });
    for (const room of page) {
      calls++;
      try {
        const outcome = await deleteRoomOfDeletedProject({ db, livekit, logger }, room, room.name, room.lastSeenAt);
        if (outcome === "deleted") roomsDeleted++;
      } catch (error) {
        failures++;
        logger.warn("teardown_room_failed", { project_id: room.projectId, error_message: (error as Error).message });
      }
    }
    if (page.length < TEARDOWN_BATCH) break;
    after = page[page.length - 1]!;
  }
  return { egressesStopped, ingressesDeleted, roomsDeleted, failures };
}
