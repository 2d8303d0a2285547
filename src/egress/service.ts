/**
 * Recording and streaming a tenant's rooms through the shared LiveKit deployment. The tenant names
 * its own rooms; LiveKit sees them namespaced. A record is written only after LiveKit accepted the
 * egress (no half-created records); list and get answer from D1, kept current by LiveKit's
 * webhooks (`events.ts`).
 */
import { and, eq, inArray, notInArray } from "drizzle-orm";
import type { AuditActor } from "../audit/record";
import { auditEntry } from "../audit/record";
import type { Tenant } from "../authz/access";
import { checkQuota } from "../billing/quota";
import { runBatch } from "../db/client";
import { egresses } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { conflict, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page, type PageRequest } from "../lib/pagination";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { allowsPrivateDestinations, assertPublicDestinations } from "../lib/private-address";
import { egressDestinations } from "./destinations";
import { reconcileEgress } from "./events";
import * as livekitEgress from "./livekit";
import { egressRequest, sanitizedOutputs } from "./outputs";
import type { StartEgressBody } from "./schemas";
import { ACTIVE_EGRESS_STATUSES, isTerminalEgressStatus, parseEgressStatus } from "./status";

type EgressRow = typeof egresses.$inferSelect;

export async function startEgress(deps: Deps, actor: AuditActor, tenant: Tenant, input: StartEgressBody): Promise<EgressRow> {
  const { config, db, logger } = deps;
  await checkQuota(deps, tenant.orgId, ["egress_minutes"]);
  // Before LiveKit hears of it: a refused destination leaves nothing behind.
  assertPublicDestinations(egressDestinations(input), allowsPrivateDestinations(config));
  const room = input.type === "web" ? null : input.room;
  const { method, request } = egressRequest(input, room === null ? null : namespacedRoom(tenant.projectId, room), tenant.projectId);
  const info = await livekitEgress.startEgress(config.livekit, method, request, logger);

  const at = nowMs();
  const status = parseEgressStatus(info.status);
  const row: EgressRow = {
    id: newId("egress"),
    egressId: info.egress_id,
    projectId: tenant.projectId,
    orgId: tenant.orgId,
    type: input.type,
    room,
    status,
    outputs: JSON.stringify(sanitizedOutputs(input)),
    error: info.error ? info.error : null,
    startedAt: livekitTimeToMs(info.started_at),
    endedAt: isTerminalEgressStatus(status) ? (livekitTimeToMs(info.ended_at) ?? at) : null,
    createdAt: at,
    updatedAt: at,
  };
  try {
    await db.batch([
      db.insert(egresses).values(row),
      auditEntry(
        db,
        actor,
        {
          action: "egress.started",
          resourceType: "egress",
          resourceId: row.id,
          orgId: tenant.orgId,
          projectId: tenant.projectId,
          metadata: { egress_id: row.egressId, type: row.type, room },
        },
        at,
      ),
    ]);
  } catch (error) {
    // LiveKit is already recording but Pulse could not keep track of it: stop it rather than
    // leave an egress nobody can see, stop or be billed for.
    deps.background(livekitEgress.stopEgress(config.livekit, info.egress_id, logger).catch(() => undefined));
    throw error;
  }
  return row;
}

export async function listEgresses(
  deps: Pick<Deps, "db">,
  projectId: string,
  { limit, cursor, room, active }: PageRequest & { room?: string; active?: boolean },
) {
  const rows = await deps.db
    .select()
    .from(egresses)
    .where(
      and(
        eq(egresses.projectId, projectId),
        room === undefined ? undefined : eq(egresses.room, room),
        active === undefined
          ? undefined
          : active
            ? inArray(egresses.status, [...ACTIVE_EGRESS_STATUSES])
            : notInArray(egresses.status, [...ACTIVE_EGRESS_STATUSES]),
        afterCursor(cursor, egresses.createdAt, egresses.id),
      ),
    )
    .orderBy(...newestFirst(egresses.createdAt, egresses.id))
    .limit(limit + 1)
    .all();
  return page(rows, limit);
}

/** The project's egress by Pulse id; another project's (or no) egress is 404. */
export async function findEgress(deps: Pick<Deps, "db">, projectId: string, id: string): Promise<EgressRow> {
  const row = await deps.db
    .select()
    .from(egresses)
    .where(and(eq(egresses.id, id), eq(egresses.projectId, projectId)))
    .get();
  if (!row) throw notFound("Egress");
  return row;
}

/** Asks LiveKit to stop; the record shows LiveKit's answer (usually EGRESS_ENDING; the webhook completes it). */
export async function stopEgress(deps: Pick<Deps, "db" | "config" | "logger">, actor: AuditActor, tenant: Tenant, id: string): Promise<EgressRow> {
  const { config, db, logger } = deps;
  const row = await findEgress(deps, tenant.projectId, id);
  if (isTerminalEgressStatus(row.status)) throw conflict(`This egress has already ended (${row.status}).`);
  const info = await livekitEgress.stopEgress(config.livekit, row.egressId, logger);
  const at = nowMs();
  const { next, statements } = reconcileEgress(db, tenant, row, info, at);
  await runBatch(db, [
    ...statements,
    auditEntry(
      db,
      actor,
      {
        action: "egress.stopped",
        resourceType: "egress",
        resourceId: row.id,
        orgId: tenant.orgId,
        projectId: tenant.projectId,
        metadata: { egress_id: row.egressId, status: next.status },
      },
      at,
    ),
  ]);
  return next;
}
