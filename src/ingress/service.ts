/**
 * Bringing RTMP, WHIP or URL streams into a tenant's rooms through the shared LiveKit deployment.
 * The room is namespaced on the wire exactly as in access tokens. A record is written only after
 * LiveKit created the ingress; its stream key is kept encrypted (the tenant needs it back to
 * publish) and list/get answer from D1, kept current by webhooks (`events.ts`).
 */
import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { AuditActor } from "../audit/record";
import { auditEntry, auditEntryWhen } from "../audit/record";
import { tenantOf, type Tenant } from "../authz/access";
import { checkQuota } from "../billing/quota";
import { recordOrUndo } from "../db/client";
import { rowsMatch } from "../db/count-cap";
import { ingresses } from "../db/schema";
import type { Deps } from "../deps";
import { assertPublicDestinations, destinationPolicy } from "../lib/private-address";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { decryptSecret, encryptSecret } from "../lib/secrets";
import { sealedAt } from "../db/sealed";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { TwirpError } from "../livekit/twirp";
import * as livekitIngress from "./livekit";
import { LIVEKIT_INPUT_TYPE, type CreateIngressBody, type UpdateIngressBody } from "./schemas";
import { publicIngressError } from "./errors";
import { parseIngressStatus } from "./status";

export type IngressRow = typeof ingresses.$inferSelect;

/** A record with its stream key in the clear, for the tenant who publishes with it. */
export interface IngressWithKey {
  row: IngressRow;
  streamKey: string | null;
}

async function withStreamKey(deps: Pick<Deps, "config">, row: IngressRow): Promise<IngressWithKey> {
  const streamKey = row.streamKeyEncrypted ? await decryptSecret(row.streamKeyEncrypted, deps.config.encryptionKeys, sealedAt(ingresses.streamKeyEncrypted, row.id)) : null;
  return { row, streamKey };
}

export async function createIngress(deps: Deps, actor: AuditActor, tenant: Tenant, input: CreateIngressBody): Promise<IngressWithKey> {
  const { config, db, logger } = deps;
  await checkQuota(deps, tenant.orgId, ["ingress_minutes"]);
  // LiveKit pulls this URL from inside the platform network: refuse private hosts before it hears of it.
  if (input.url !== undefined) await assertPublicDestinations([{ path: "url", url: input.url }], destinationPolicy(config));
  const info = await livekitIngress.createIngress(
    config.livekit,
    {
      inputType: LIVEKIT_INPUT_TYPE[input.input_type],
      name: input.name ?? "",
      roomName: namespacedRoom(tenant.projectId, input.room),
      participantIdentity: input.participant_identity,
      ...(input.participant_name !== undefined ? { participantName: input.participant_name } : {}),
      ...(input.participant_metadata !== undefined ? { participantMetadata: input.participant_metadata } : {}),
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.enable_transcoding !== undefined ? { enableTranscoding: input.enable_transcoding } : {}),
    },
    logger,
  );

  const at = nowMs();
  const streamKey = info.stream_key ? info.stream_key : null;
  const id = newId("ingress");
  const row: IngressRow = {
    id,
    ingressId: info.ingress_id,
    projectId: tenant.projectId,
    orgId: tenant.orgId,
    inputType: input.input_type,
    // The tenant's text byte for byte, not LiveKit's echo of it.
    name: input.name ?? "",
    room: input.room,
    participantIdentity: input.participant_identity,
    url: info.url ? info.url : (input.url ?? null),
    streamKeyEncrypted: streamKey === null ? null : await encryptSecret(streamKey, config.encryptionKeys, sealedAt(ingresses.streamKeyEncrypted, id)),
    status: parseIngressStatus(info.state?.status),
    error: publicIngressError(info.state?.error, info.state?.status),
    startedAt: livekitTimeToMs(info.state?.started_at),
    endedAt: livekitTimeToMs(info.state?.ended_at),
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
  };
  // LiveKit already takes streams for it: if Pulse cannot keep track of it, delete it.
  const audit = { action: "ingress.created", resourceType: "ingress", resourceId: row.id, ...tenantOf(tenant), metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room, name: row.name } };
  await recordOrUndo(db, [db.insert(ingresses).values(row), auditEntry(db, actor, audit, at)], () => livekitIngress.deleteIngress(config.livekit, info.ingress_id, logger), deps.background);
  return { row, streamKey };
}

export async function listIngresses(deps: Pick<Deps, "db" | "config">, projectId: string, request: PageRequest & { room?: string; ingressId?: string }) {
  const live = and(
    eq(ingresses.projectId, projectId),
    isNull(ingresses.deletedAt),
    request.room === undefined ? undefined : eq(ingresses.room, request.room),
    request.ingressId === undefined ? undefined : eq(ingresses.ingressId, request.ingressId),
  );
  const result = await newestFirstPage(request, ingresses, (after, order, fetch) =>
    deps.db.select().from(ingresses).where(and(live, after)).orderBy(...order).limit(fetch).all(),
  );
  return { rows: await Promise.all(result.rows.map((r) => withStreamKey(deps, r))), nextCursor: result.nextCursor };
}

/** The project's live (not deleted) ingress by Pulse id (`ing_…`) or LiveKit id (`IN_…`); anything else is 404. */
async function findIngressRow(deps: Pick<Deps, "db">, projectId: string, id: string | { ingressId: string }): Promise<IngressRow> {
  const row = await deps.db
    .select()
    .from(ingresses)
    .where(and(typeof id === "string" ? eq(ingresses.id, id) : eq(ingresses.ingressId, id.ingressId), eq(ingresses.projectId, projectId), isNull(ingresses.deletedAt)))
    .get();
  if (!row) throw notFound("Ingress");
  return row;
}

export async function getIngress(deps: Pick<Deps, "db" | "config">, projectId: string, id: string | { ingressId: string }): Promise<IngressWithKey> {
  return withStreamKey(deps, await findIngressRow(deps, projectId, id));
}

/**
 * The record, still live in the project: the WHERE of a change to it and (`rowsMatch`) the guard of
 * the change's audit entry, before it in the same batch. A record deleted meanwhile (a second
 * delete, the deleted project's teardown) is neither changed nor audited again.
 */
function liveIngress(projectId: string, id: string): SQL {
  return and(eq(ingresses.id, id), eq(ingresses.projectId, projectId), isNull(ingresses.deletedAt))!;
}

/** Deletes the ingress in LiveKit (it stops accepting streams), then the record. */
export async function deleteIngress(deps: Pick<Deps, "db" | "config" | "logger">, actor: AuditActor, tenant: Tenant, id: string | { ingressId: string }): Promise<void> {
  const { config, db, logger } = deps;
  const row = await findIngressRow(deps, tenant.projectId, id);
  try {
    await livekitIngress.deleteIngress(config.livekit, row.ingressId, logger);
  } catch (error) {
    // Already gone in LiveKit (deleted there, or expired): the tenant's intent holds, finish here.
    if (!(error instanceof TwirpError && error.twirpCode === "not_found")) throw error;
  }
  const at = nowMs();
  await db.batch([
    auditEntryWhen(
      db,
      actor,
      {
        action: "ingress.deleted",
        resourceType: "ingress",
        resourceId: row.id,
        ...tenantOf(tenant),
        metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room },
      },
      rowsMatch(ingresses, liveIngress(tenant.projectId, row.id)),
      at,
    ),
    db.update(ingresses).set({ deletedAt: at, updatedAt: at }).where(liveIngress(tenant.projectId, row.id)),
  ]);
}

/**
 * LiveKit's UpdateIngress: only the fields given change. The record keeps the tenant's text; a new
 * room is namespaced as at creation.
 */
export async function updateIngress(
  deps: Pick<Deps, "db" | "config" | "logger">,
  actor: AuditActor,
  tenant: Tenant,
  id: string | { ingressId: string },
  change: UpdateIngressBody,
): Promise<IngressWithKey> {
  const { config, db, logger } = deps;
  const row = await findIngressRow(deps, tenant.projectId, id);
  await livekitIngress.updateIngress(
    config.livekit,
    {
      ingressId: row.ingressId,
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.room !== undefined ? { roomName: namespacedRoom(tenant.projectId, change.room) } : {}),
      ...(change.participant_identity !== undefined ? { participantIdentity: change.participant_identity } : {}),
      ...(change.participant_name !== undefined ? { participantName: change.participant_name } : {}),
      ...(change.participant_metadata !== undefined ? { participantMetadata: change.participant_metadata } : {}),
      ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
    },
    logger,
  );
  const at = nowMs();
  const next: IngressRow = {
    ...row,
    name: change.name ?? row.name,
    room: change.room ?? row.room,
    participantIdentity: change.participant_identity ?? row.participantIdentity,
    updatedAt: at,
  };
  const changed = Object.entries(change).filter(([, v]) => v !== undefined).map(([k]) => k);
  await db.batch([
    auditEntryWhen(
      db,
      actor,
      { action: "ingress.updated", resourceType: "ingress", resourceId: row.id, orgId: tenant.orgId, projectId: tenant.projectId, metadata: { ingress_id: row.ingressId, changed } },
      rowsMatch(ingresses, liveIngress(tenant.projectId, row.id)),
      at,
    ),
    db
      .update(ingresses)
      .set({ name: next.name, room: next.room, participantIdentity: next.participantIdentity, updatedAt: at })
      .where(liveIngress(tenant.projectId, row.id)),
  ]);
  return withStreamKey(deps, next);
}
