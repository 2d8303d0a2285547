/**
 * The ingress operations, shared by the REST routes (`routes.ts`) and the LiveKit-compatible Twirp
 * API (`compat/`): create, list, read, update and delete RTMP, WHIP or URL inputs into a tenant's
 * rooms. The room is namespaced on the wire exactly as in access tokens. A record is written only
 * after LiveKit created the ingress; its stream key is kept encrypted (the tenant needs it back to
 * publish), and reads answer from D1, kept current by webhooks (`events.ts`).
 */
import { and, eq, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { ingresses } from "../db/schema";
import { allowsPrivateDestinations, assertPublicDestinations } from "../egress/destinations";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Logger } from "../lib/logger";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { decryptSecret, encryptSecret } from "../lib/secrets";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { TwirpError } from "../livekit/twirp";
import { createIngress as createInLivekit, deleteIngress as deleteInLivekit, updateIngress as updateInLivekit, type IngressInfoAnswer } from "./livekit";
import { LIVEKIT_INPUT_TYPE, type CreateIngressBody, type UpdateIngressBody } from "./schemas";
import { parseIngressStatus } from "./status";

export type IngressRow = typeof ingresses.$inferSelect;

export interface IngressDeps {
  db: Database;
  config: Config;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

export interface IngressCaller {
  projectId: string;
  orgId: string;
  audit: AuditActor;
}

/** The stream key to publish with, unsealed (null for URL pulls). */
export async function ingressStreamKey(config: Config, row: IngressRow): Promise<string | null> {
  return row.streamKeyEncrypted ? decryptSecret(row.streamKeyEncrypted, config.encryptionKey) : null;
}

export async function createIngress(deps: IngressDeps, caller: IngressCaller, body: CreateIngressBody): Promise<{ row: IngressRow; info: IngressInfoAnswer; streamKey: string | null }> {
  const { config, db, logger } = deps;
  // LiveKit pulls this URL from inside the platform network: refuse private hosts before it hears of it.
  if (body.url !== undefined) assertPublicDestinations([{ path: "url", url: body.url }], allowsPrivateDestinations(config));
  const info = await createInLivekit(
    config.livekit,
    {
      inputType: LIVEKIT_INPUT_TYPE[body.input_type],
      name: body.name ?? "",
      roomName: namespacedRoom(caller.projectId, body.room),
      participantIdentity: body.participant_identity,
      ...(body.participant_name !== undefined ? { participantName: body.participant_name } : {}),
      ...(body.participant_metadata !== undefined ? { participantMetadata: body.participant_metadata } : {}),
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.enable_transcoding !== undefined ? { enableTranscoding: body.enable_transcoding } : {}),
    },
    logger,
  );

  const at = nowMs();
  const streamKey = info.stream_key ? info.stream_key : null;
  const row: IngressRow = {
    id: newId("ingress"),
    ingressId: info.ingress_id,
    projectId: caller.projectId,
    orgId: caller.orgId,
    inputType: body.input_type,
    // The tenant's text byte for byte, not LiveKit's echo of it.
    name: body.name ?? "",
    room: body.room,
    participantIdentity: body.participant_identity,
    url: info.url ? info.url : (body.url ?? null),
    streamKeyEncrypted: streamKey === null ? null : await encryptSecret(streamKey, config.encryptionKey),
    status: parseIngressStatus(info.state?.status),
    error: info.state?.error ? info.state.error : null,
    startedAt: livekitTimeToMs(info.state?.started_at),
    endedAt: livekitTimeToMs(info.state?.ended_at),
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
  };
  try {
    await db.batch([
      db.insert(ingresses).values(row),
      auditEntry(
        db,
        caller.audit,
        {
          action: "ingress.created",
          resourceType: "ingress",
          resourceId: row.id,
          orgId: caller.orgId,
          projectId: caller.projectId,
          metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room, name: row.name },
        },
        at,
      ),
    ]);
  } catch (error) {
    // An ingress Pulse cannot track would take streams nobody can see or delete: remove it.
    deps.waitUntil(deleteInLivekit(config.livekit, info.ingress_id, logger).catch(() => undefined));
    throw error;
  }
  return { row, info, streamKey };
}

export async function listIngresses(db: Database, projectId: string, opts: { limit: number; cursor?: string; room?: string; ingressId?: string }) {
  const rows = await db
    .select()
    .from(ingresses)
    .where(
      and(
        eq(ingresses.projectId, projectId),
        isNull(ingresses.deletedAt),
        opts.room === undefined ? undefined : eq(ingresses.room, opts.room),
        opts.ingressId === undefined ? undefined : eq(ingresses.ingressId, opts.ingressId),
        afterCursor(opts.cursor, ingresses.createdAt, ingresses.id),
      ),
    )
    .orderBy(...newestFirst(ingresses.createdAt, ingresses.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** The project's live (not deleted) ingress by Pulse id (`ing_…`) or LiveKit id (`IN_…`); anything else is 404. */
export async function getIngress(db: Database, projectId: string, ref: { id: string } | { ingressId: string }): Promise<IngressRow> {
  const row = await db
    .select()
    .from(ingresses)
    .where(and("id" in ref ? eq(ingresses.id, ref.id) : eq(ingresses.ingressId, ref.ingressId), eq(ingresses.projectId, projectId), isNull(ingresses.deletedAt)))
    .get();
  if (!row) throw notFound("Ingress");
  return row;
}

/**
 * LiveKit's UpdateIngress: only the fields given change. The record keeps the tenant's text; the
 * new room is namespaced like at creation.
 */
export async function updateIngress(deps: IngressDeps, caller: IngressCaller, row: IngressRow, change: UpdateIngressBody): Promise<{ row: IngressRow; info: IngressInfoAnswer }> {
  const { config, db, logger } = deps;
  const info = await updateInLivekit(
    config.livekit,
    {
      ingressId: row.ingressId,
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.room !== undefined ? { roomName: namespacedRoom(caller.projectId, change.room) } : {}),
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
  await db.batch([
    db
      .update(ingresses)
      .set({ name: next.name, room: next.room, participantIdentity: next.participantIdentity, updatedAt: at })
      .where(and(eq(ingresses.id, row.id), eq(ingresses.projectId, caller.projectId))),
    auditEntry(
      db,
      caller.audit,
      {
        action: "ingress.updated",
        resourceType: "ingress",
        resourceId: row.id,
        orgId: caller.orgId,
        projectId: caller.projectId,
        metadata: { ingress_id: row.ingressId, changed: Object.keys(change).filter((k) => change[k as keyof UpdateIngressBody] !== undefined) },
      },
      at,
    ),
  ]);
  return { row: next, info };
}

/** Deletes an ingress in LiveKit (it stops accepting streams), then the record. */
export async function deleteIngress(deps: IngressDeps, caller: IngressCaller, row: IngressRow): Promise<void> {
  const { config, db, logger } = deps;
  try {
    await deleteInLivekit(config.livekit, row.ingressId, logger);
  } catch (error) {
    // Already gone in LiveKit (deleted there, or expired): the tenant's intent holds, finish here.
    if (!(error instanceof TwirpError && error.twirpCode === "not_found")) throw error;
  }
  const at = nowMs();
  await db.batch([
    db
      .update(ingresses)
      .set({ deletedAt: at, updatedAt: at })
      .where(and(eq(ingresses.id, row.id), eq(ingresses.projectId, caller.projectId))),
    auditEntry(
      db,
      caller.audit,
      {
        action: "ingress.deleted",
        resourceType: "ingress",
        resourceId: row.id,
        orgId: caller.orgId,
        projectId: caller.projectId,
        metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room },
      },
      at,
    ),
  ]);
}
