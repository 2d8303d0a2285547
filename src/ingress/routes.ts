/**
 * `/v1/ingress`: bringing RTMP, WHIP or URL streams into a tenant's rooms through the shared
 * LiveKit deployment. The room is namespaced on the wire exactly as in access tokens. A record is
 * written only after LiveKit created the ingress; its stream key is kept encrypted (the tenant
 * needs it back to publish) and list/get answer from D1, kept current by webhooks (`events.ts`).
 */
import { createRoute } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import type { Context } from "hono";
import { currentApiKey, requireApiKey } from "../api-keys/auth";
import { enforceQuota } from "../billing/quota";
import { auditActor, auditEntry } from "../audit/record";
import { ingresses } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent, listOf, ListQuery, upstreamResponse } from "../lib/openapi";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { decryptSecret, encryptSecret } from "../lib/secrets";
import { namespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { TwirpError } from "../livekit/twirp";
import { allowsPrivateDestinations, assertPublicDestinations } from "../egress/destinations";
import { createIngress, deleteIngress } from "./livekit";
import { CreateIngressBody, IngressListQuery, IngressSchema, LIVEKIT_INPUT_TYPE, serializeIngress } from "./schemas";
import { parseIngressStatus } from "./status";
import { IngressParams } from "../lib/params";

export const ingressRoutes = createRouter();
// Hono's "/v1/ingress/*" also matches "/v1/ingress" itself: one registration, so a request is
// authenticated and rate-limited once.
ingressRoutes.use("/v1/ingress/*", requireApiKey("ingress:write"));
ingressRoutes.on("POST", "/v1/ingress", enforceQuota("ingress_minutes"));

const tags = ["Ingress"];

type IngressRow = typeof ingresses.$inferSelect;

async function present(c: Context<AppEnv>, row: IngressRow) {
  const streamKey = row.streamKeyEncrypted ? await decryptSecret(row.streamKeyEncrypted, c.var.config.encryptionKey) : null;
  return serializeIngress(row, streamKey);
}

ingressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/ingress",
    tags,
    summary: "Create an RTMP, WHIP or URL ingress into one of your rooms",
    security: bearerSecurity,
    request: { body: jsonBody(CreateIngressBody) },
    responses: { 201: jsonContent(IngressSchema, "Created, with the URL and stream key to publish to"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const body = c.req.valid("json");
    const { config, db, logger } = c.var;
    // LiveKit pulls this URL from inside the platform network: refuse private hosts before it hears of it.
    if (body.url !== undefined) assertPublicDestinations([{ path: "url", url: body.url }], allowsPrivateDestinations(config));
    const info = await createIngress(
      config.livekit,
      {
        inputType: LIVEKIT_INPUT_TYPE[body.input_type],
        name: body.name ?? "",
        roomName: namespacedRoom(key.projectId, body.room),
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
      projectId: key.projectId,
      orgId: key.orgId,
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
          auditActor(c),
          {
            action: "ingress.created",
            resourceType: "ingress",
            resourceId: row.id,
            orgId: key.orgId,
            projectId: key.projectId,
            metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room, name: row.name },
          },
          at,
        ),
      ]);
    } catch (error) {
      // An ingress Pulse cannot track would take streams nobody can see or delete: remove it.
      c.executionCtx.waitUntil(deleteIngress(config.livekit, info.ingress_id, logger).catch(() => undefined));
      throw error;
    }
    return c.json(serializeIngress(row, streamKey), 201);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/ingress",
    tags,
    summary: "List this project's ingresses, newest first (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { query: ListQuery.extend(IngressListQuery.shape) },
    responses: { 200: jsonContent(listOf(IngressSchema), "Ingresses"), ...errorResponses },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const { limit, cursor, room } = c.req.valid("query");
    const rows = await c.var.db
      .select()
      .from(ingresses)
      .where(
        and(
          eq(ingresses.projectId, key.projectId),
          isNull(ingresses.deletedAt),
          room === undefined ? undefined : eq(ingresses.room, room),
          afterCursor(cursor, ingresses.createdAt, ingresses.id),
        ),
      )
      .orderBy(...newestFirst(ingresses.createdAt, ingresses.id))
      .limit(limit + 1)
      .all();
    const result = page(rows, limit);
    return c.json({ data: await Promise.all(result.rows.map((r) => present(c, r))), next_cursor: result.nextCursor }, 200);
  },
);

/** The project's live (not deleted) ingress by Pulse id; anything else is 404. */
async function loadIngress(c: Context<AppEnv>, projectId: string, id: string) {
  const row = await c.var.db
    .select()
    .from(ingresses)
    .where(and(eq(ingresses.id, id), eq(ingresses.projectId, projectId), isNull(ingresses.deletedAt)))
    .get();
  if (!row) throw notFound("Ingress");
  return row;
}

ingressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Read an ingress, with its stream key (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { params: IngressParams },
    responses: { 200: jsonContent(IngressSchema, "The ingress"), ...errorResponses },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const row = await loadIngress(c, key.projectId, c.req.valid("param").ing_id);
    return c.json(await present(c, row), 200);
  },
);

ingressRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/ingress/{ing_id}",
    tags,
    summary: "Delete an ingress in LiveKit; it stops accepting streams",
    security: bearerSecurity,
    request: { params: IngressParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const { config, db, logger } = c.var;
    const row = await loadIngress(c, key.projectId, c.req.valid("param").ing_id);
    try {
      await deleteIngress(config.livekit, row.ingressId, logger);
    } catch (error) {
      // Already gone in LiveKit (deleted there, or expired): the tenant's intent holds, finish here.
      if (!(error instanceof TwirpError && error.twirpCode === "not_found")) throw error;
    }
    const at = nowMs();
    await db.batch([
      db
        .update(ingresses)
        .set({ deletedAt: at, updatedAt: at })
        .where(and(eq(ingresses.id, row.id), eq(ingresses.projectId, key.projectId))),
      auditEntry(
        db,
        auditActor(c),
        {
          action: "ingress.deleted",
          resourceType: "ingress",
          resourceId: row.id,
          orgId: key.orgId,
          projectId: key.projectId,
          metadata: { ingress_id: row.ingressId, input_type: row.inputType, room: row.room },
        },
        at,
      ),
    ]);
    return c.body(null, 204);
  },
);
