/**
 * Recording and streaming a tenant's rooms through the shared LiveKit deployment. The tenant names
 * its own rooms; LiveKit sees them namespaced. A record is written only after LiveKit accepted the
 * egress (no half-created records); list and get answer from D1, kept current by LiveKit's
 * webhooks (`events.ts`).
 */
import { and, count, eq, inArray, notInArray } from "drizzle-orm";
import type { AuditActor } from "../audit/record";
import { auditEntry, auditEntryWhen } from "../audit/record";
import { tenantOf, type Tenant } from "../authz/access";
import { orgPlan, type Plan } from "../billing/plans";
import { checkQuota } from "../billing/quota";
import { recordOrUndo, runBatch, type Database } from "../db/client";
import { belowCap, insertWhen, rowWritten } from "../db/count-cap";
import { egresses } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { ApiError, conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { assertPublicDestinations, destinationPolicy } from "../lib/private-address";
import { egressDestinations } from "./destinations";
import { publicEgressError } from "./errors";
import { reconcileEgress } from "./events";
import * as livekitEgress from "./livekit";
import { egressRequest, redactUrl, sanitizedOutputs } from "./outputs";
import { withExpandedPaths } from "./paths";
import { resultsFromInfo } from "./results";
import { assertWebEgressAllowed } from "./web-egress";
import type { StartEgressBody } from "./schemas";
import { ACTIVE_EGRESS_STATUSES, isTerminalEgressStatus, parseEgressStatus } from "./status";

type EgressRow = typeof egresses.$inferSelect;

/** `SELECT count(*)` of the org's egresses LiveKit may still be running (starting, active, ending). */
function activeEgressesOf(db: Database, orgId: string) {
  return db
    .select({ n: count() })
    .from(egresses)
    .where(and(eq(egresses.orgId, orgId), inArray(egresses.status, [...ACTIVE_EGRESS_STATUSES])));
}

function concurrentEgressCapReached(plan: Plan, cap: number) {
  return new ApiError(
    "quota_exceeded",
    `This organization's ${plan.name} plan allows ${cap} concurrent egresses and ${cap} are already running. Stop one, wait for one to end, or upgrade the plan.`,
  );
}

/**
 * The plan's concurrent egress cap (null = none), refused at once when already reached: before
 * LiveKit hears of the start, so the common case costs LiveKit nothing.
 */
async function assertEgressSlot(db: Database, orgId: string): Promise<{ plan: Plan; cap: number } | null> {
  const plan = await orgPlan(db, orgId);
  const cap = plan?.maxConcurrentEgress ?? null;
  if (!plan || cap === null) return null;
  const active = (await activeEgressesOf(db, orgId).get())?.n ?? 0;
  if (active >= cap) throw concurrentEgressCapReached(plan, cap);
  return { plan, cap };
}

export async function startEgress(deps: Deps, actor: AuditActor, tenant: Tenant, input: StartEgressBody): Promise<EgressRow> {
  const { config, db, logger } = deps;
  if (input.type === "web") await assertWebEgressAllowed(deps, tenant.projectId, input.url);
  await checkQuota(deps, tenant.orgId, ["egress_minutes"]);
  const slot = await assertEgressSlot(db, tenant.orgId);
  // Before LiveKit hears of it: a refused path or destination leaves nothing behind.
  const expanded = withExpandedPaths(input);
  await assertPublicDestinations(egressDestinations(input), destinationPolicy(config));
  const room = input.type === "web" ? null : input.room;
  const { method, request } = egressRequest(expanded, room === null ? null : namespacedRoom(tenant.projectId, room), tenant.projectId);
  const info = await livekitEgress.startEgress(config.livekit, method, request, logger);

  const at = nowMs();
  const status = parseEgressStatus(info.status);
  if (info.error) logger.warn("egress_error", { egress_id: info.egress_id, status, error: info.error });
  const row: EgressRow = {
    id: newId("egress"),
    egressId: info.egress_id,
    projectId: tenant.projectId,
    orgId: tenant.orgId,
    type: input.type,
    room,
    status,
    outputs: JSON.stringify(sanitizedOutputs(input)),
    error: publicEgressError(info.error, status),
    startedAt: livekitTimeToMs(info.started_at),
    endedAt: isTerminalEgressStatus(status) ? (livekitTimeToMs(info.ended_at) ?? at) : null,
    createdAt: at,
    updatedAt: at,
    results: JSON.stringify(resultsFromInfo(info, tenant.projectId)),
  };
  // LiveKit is already recording: if Pulse cannot keep track of it, stop it.
  const audit = { action: "egress.started", resourceType: "egress", resourceId: row.id, ...tenantOf(tenant), metadata: { egress_id: row.egressId, type: row.type, room } };
  const undo = () => livekitEgress.stopEgress(config.livekit, info.egress_id, logger);
  if (!slot) {
    await recordOrUndo(db, [db.insert(egresses).values(row), auditEntry(db, actor, audit, at)], undo, deps.background);
    return row;
  }
  // The cap is re-counted inside the INSERT (the record is written only after LiveKit accepted, so
  // the check above cannot reserve a slot): of concurrent starts that all passed it, D1's single
  // writer lets only those that still fit be recorded. A start that lost the race is stopped in
  // LiveKit and refused like the others, so it is never left running unseen or unbilled.
  const [inserted] = await recordOrUndo(
    db,
    [insertWhen(db, egresses, row, belowCap(activeEgressesOf(db, tenant.orgId), slot.cap)), auditEntryWhen(db, actor, audit, rowWritten(egresses.id, row.id), at)],
    undo,
    deps.background,
  );
  if ((inserted as unknown[]).length === 0) {
    deps.background(undo().catch(() => undefined));
    throw concurrentEgressCapReached(slot.plan, slot.cap);
  }
  return row;
}

export function listEgresses(deps: Pick<Deps, "db">, projectId: string, request: PageRequest & { room?: string; active?: boolean; egressId?: string }) {
  const { room, active, egressId } = request;
  const activity = active === undefined ? undefined : (active ? inArray : notInArray)(egresses.status, [...ACTIVE_EGRESS_STATUSES]);
  const matching = and(
    eq(egresses.projectId, projectId),
    room === undefined ? undefined : eq(egresses.room, room),
    egressId === undefined ? undefined : eq(egresses.egressId, egressId),
    activity,
  );
  return newestFirstPage(request, egresses, (after, order, fetch) =>
    deps.db.select().from(egresses).where(and(matching, after)).orderBy(...order).limit(fetch).all(),
  );
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

/** The project's egress by LiveKit's id (`EG_…`); another project's (or no) egress is 404. */
export async function findEgressByLivekitId(deps: Pick<Deps, "db">, projectId: string, egressId: string): Promise<EgressRow> {
  const row = await deps.db
    .select()
    .from(egresses)
    .where(and(eq(egresses.egressId, egressId), eq(egresses.projectId, projectId)))
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
        ...tenantOf(tenant),
        metadata: { egress_id: row.egressId, status: next.status },
      },
      at,
    ),
  ]);
  return next;
}

/**
 * Applies LiveKit's answer about a running egress to its record, with `action`'s audit entry in the
 * same batch (written after LiveKit's answer, as every change made in LiveKit is).
 */
async function recordChange(
  deps: Pick<Deps, "db">,
  actor: AuditActor,
  tenant: Tenant,
  row: EgressRow,
  info: livekitEgress.EgressInfoAnswer,
  action: string,
  metadata: Record<string, unknown>,
): Promise<EgressRow> {
  const at = nowMs();
  const { next, statements } = reconcileEgress(deps.db, tenant, row, info, at);
  await runBatch(deps.db, [
    ...statements,
    auditEntry(
      deps.db,
      actor,
      { action, resourceType: "egress", resourceId: row.id, orgId: tenant.orgId, projectId: tenant.projectId, metadata: { egress_id: row.egressId, ...metadata, status: next.status } },
      at,
    ),
  ]);
  return next;
}

async function runningEgress(deps: Pick<Deps, "db">, projectId: string, id: string): Promise<EgressRow> {
  const row = await findEgress(deps, projectId, id);
  if (isTerminalEgressStatus(row.status)) throw conflict(`This egress has already ended (${row.status}).`);
  return row;
}

/** Changes the layout of a running room-composite or web egress (LiveKit's UpdateLayout). */
export async function updateEgressLayout(deps: Pick<Deps, "db" | "config" | "logger">, actor: AuditActor, tenant: Tenant, id: string, layout: string): Promise<EgressRow> {
  const row = await runningEgress(deps, tenant.projectId, id);
  if (row.type !== "room_composite" && row.type !== "web") throw conflict(`A ${row.type} egress has no layout.`);
  const info = await livekitEgress.egressTwirp(deps.config.livekit, "UpdateLayout", { egressId: row.egressId, layout }, deps.logger);
  return recordChange(deps, actor, tenant, row, info, "egress.layout_updated", { layout });
}

/** Adds or removes RTMP/SRT destinations of a running egress (LiveKit's UpdateStream). */
export async function updateEgressStreams(
  deps: Pick<Deps, "db" | "config" | "logger">,
  actor: AuditActor,
  tenant: Tenant,
  id: string,
  change: { add: string[]; remove: string[] },
): Promise<EgressRow> {
  if (change.add.length === 0 && change.remove.length === 0) {
    throw validationFailed("Give at least one URL to add or remove.", [{ path: "add_output_urls", message: "Give at least one URL to add or remove" }]);
  }
  // LiveKit connects to the new destinations from inside the platform network.
  await assertPublicDestinations(
    change.add.map((url, i) => ({ path: `add_output_urls.${i}`, url })),
    destinationPolicy(deps.config),
  );
  const row = await runningEgress(deps, tenant.projectId, id);
  const info = await livekitEgress.egressTwirp(deps.config.livekit, "UpdateStream", { egressId: row.egressId, addOutputUrls: change.add, removeOutputUrls: change.remove }, deps.logger);
  // Stream URLs carry stream keys: the audit keeps them redacted.
  const redacted = (urls: string[]) => urls.map((u) => redactUrl(u, true));
  return recordChange(deps, actor, tenant, row, info, "egress.streams_updated", { added: redacted(change.add), removed: redacted(change.remove) });
}
