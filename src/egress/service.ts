/**
 * The egress operations, shared by the REST routes (`routes.ts`) and the LiveKit-compatible Twirp
 * API (`compat/`): start, list, read, stop, change the layout, add or remove stream destinations.
 * Plain functions of their dependencies and the caller; the tenant names its own rooms and
 * LiveKit sees them namespaced. A record is written only after LiveKit accepted the egress (no
 * half-created records); reads answer from D1, kept current by LiveKit's webhooks (`events.ts`).
 */
import { and, eq, inArray, notInArray } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import type { Config } from "../config";
import { runBatch, type Database } from "../db/client";
import { egresses } from "../db/schema";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Logger } from "../lib/logger";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { allowsPrivateDestinations, assertPublicDestinations, egressDestinations } from "./destinations";
import { reconcileEgress } from "./events";
import { egressTwirp, startEgress as startInLivekit, stopEgress as stopInLivekit, type EgressInfoAnswer } from "./livekit";
import { egressRequest, redactUrl, sanitizedOutputs } from "./outputs";
import type { StartEgressBody } from "./schemas";
import { ACTIVE_EGRESS_STATUSES, isTerminalEgressStatus, parseEgressStatus } from "./status";

export type EgressRow = typeof egresses.$inferSelect;

export interface EgressDeps {
  db: Database;
  config: Config;
  logger: Logger;
  /** Work that must finish after the answer (cleaning up in LiveKit when D1 failed). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** The project acting, and how to audit it. */
export interface EgressCaller {
  projectId: string;
  orgId: string;
  audit: AuditActor;
}

/** The room the egress records: the tenant's own name (web egress has none). */
export function egressRoom(body: StartEgressBody): string | null {
  return body.type === "web" ? null : body.room;
}

export async function startEgress(deps: EgressDeps, caller: EgressCaller, body: StartEgressBody): Promise<{ row: EgressRow; info: EgressInfoAnswer }> {
  const { config, db, logger } = deps;
  // Before LiveKit hears of it: a refused destination leaves nothing behind.
  assertPublicDestinations(egressDestinations(body), allowsPrivateDestinations(config));
  const room = egressRoom(body);
  const { method, request } = egressRequest(body, room === null ? null : namespacedRoom(caller.projectId, room), caller.projectId);
  const info = await startInLivekit(config.livekit, method, request, logger);

  const at = nowMs();
  const status = parseEgressStatus(info.status);
  const row: EgressRow = {
    id: newId("egress"),
    egressId: info.egress_id,
    projectId: caller.projectId,
    orgId: caller.orgId,
    type: body.type,
    room,
    status,
    outputs: JSON.stringify(sanitizedOutputs(body)),
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
        caller.audit,
        {
          action: "egress.started",
          resourceType: "egress",
          resourceId: row.id,
          orgId: caller.orgId,
          projectId: caller.projectId,
          metadata: { egress_id: row.egressId, type: row.type, room },
        },
        at,
      ),
    ]);
  } catch (error) {
    // LiveKit is already recording but Pulse could not keep track of it: stop it rather than
    // leave an egress nobody can see, stop or be billed for.
    deps.waitUntil(stopInLivekit(config.livekit, info.egress_id, logger).catch(() => undefined));
    throw error;
  }
  return { row, info };
}

export interface EgressFilter {
  room?: string;
  active?: boolean;
  /** LiveKit's `EG_…` id. */
  egressId?: string;
}

export async function listEgresses(db: Database, projectId: string, opts: EgressFilter & { limit: number; cursor?: string }) {
  const { room, active, egressId } = opts;
  const rows = await db
    .select()
    .from(egresses)
    .where(
      and(
        eq(egresses.projectId, projectId),
        room === undefined ? undefined : eq(egresses.room, room),
        egressId === undefined ? undefined : eq(egresses.egressId, egressId),
        active === undefined
          ? undefined
          : active
            ? inArray(egresses.status, [...ACTIVE_EGRESS_STATUSES])
            : notInArray(egresses.status, [...ACTIVE_EGRESS_STATUSES]),
        afterCursor(opts.cursor, egresses.createdAt, egresses.id),
      ),
    )
    .orderBy(...newestFirst(egresses.createdAt, egresses.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** The project's egress by Pulse id (`eg_…`) or LiveKit id (`EG_…`); another project's (or no) egress is 404. */
export async function getEgress(db: Database, projectId: string, ref: { id: string } | { egressId: string }): Promise<EgressRow> {
  const row = await db
    .select()
    .from(egresses)
    .where(and("id" in ref ? eq(egresses.id, ref.id) : eq(egresses.egressId, ref.egressId), eq(egresses.projectId, projectId)))
    .get();
  if (!row) throw notFound("Egress");
  return row;
}

function assertNotEnded(row: EgressRow): void {
  if (isTerminalEgressStatus(row.status)) throw conflict(`This egress has already ended (${row.status}).`);
}

/**
 * Applies LiveKit's answer about an egress to its record and writes `action`'s audit entry in the
 * same batch (after LiveKit's answer, as every LiveKit-side change is audited).
 */
async function recordLivekitAnswer(
  deps: EgressDeps,
  caller: EgressCaller,
  row: EgressRow,
  info: EgressInfoAnswer,
  action: string,
  metadata: Record<string, unknown>,
): Promise<EgressRow> {
  const at = nowMs();
  const { next, statements } = reconcileEgress(deps.db, caller, row, info, at);
  await runBatch(deps.db, [
    ...statements,
    auditEntry(
      deps.db,
      caller.audit,
      { action, resourceType: "egress", resourceId: row.id, orgId: caller.orgId, projectId: caller.projectId, metadata: { egress_id: row.egressId, ...metadata, status: next.status } },
      at,
    ),
  ]);
  return next;
}

/** Stops an egress; the record shows LiveKit's answer (usually EGRESS_ENDING, then the webhook completes it). */
export async function stopEgress(deps: EgressDeps, caller: EgressCaller, row: EgressRow): Promise<{ row: EgressRow; info: EgressInfoAnswer }> {
  assertNotEnded(row);
  const info = await stopInLivekit(deps.config.livekit, row.egressId, deps.logger);
  return { row: await recordLivekitAnswer(deps, caller, row, info, "egress.stopped", {}), info };
}

/** Changes the layout of a running room-composite or web egress (LiveKit's UpdateLayout). */
export async function updateEgressLayout(
  deps: EgressDeps,
  caller: EgressCaller,
  row: EgressRow,
  layout: string,
): Promise<{ row: EgressRow; info: EgressInfoAnswer }> {
  assertNotEnded(row);
  if (row.type !== "room_composite" && row.type !== "web") throw conflict(`A ${row.type} egress has no layout.`);
  const info = await egressTwirp(deps.config.livekit, "UpdateLayout", { egressId: row.egressId, layout }, deps.logger);
  return { row: await recordLivekitAnswer(deps, caller, row, info, "egress.layout_updated", { layout }), info };
}

/** Adds or removes RTMP/SRT destinations of a running egress (LiveKit's UpdateStream). */
export async function updateEgressStreams(
  deps: EgressDeps,
  caller: EgressCaller,
  row: EgressRow,
  change: { add: string[]; remove: string[] },
): Promise<{ row: EgressRow; info: EgressInfoAnswer }> {
  assertNotEnded(row);
  if (change.add.length === 0 && change.remove.length === 0) {
    throw validationFailed("Give at least one URL to add or remove.", [{ path: "add_output_urls", message: "Give at least one URL to add or remove" }]);
  }
  assertPublicDestinations(
    change.add.map((url, i) => ({ path: `add_output_urls.${i}`, url })),
    allowsPrivateDestinations(deps.config),
  );
  const info = await egressTwirp(deps.config.livekit, "UpdateStream", { egressId: row.egressId, addOutputUrls: change.add, removeOutputUrls: change.remove }, deps.logger);
  // Stream URLs carry stream keys: the audit keeps them redacted.
  const redacted = (urls: string[]) => urls.map((u) => redactUrl(u, true));
  return { row: await recordLivekitAnswer(deps, caller, row, info, "egress.streams_updated", { added: redacted(change.add), removed: redacted(change.remove) }), info };
}
