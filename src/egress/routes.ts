/**
 * `/v1/egress`: recording and streaming a tenant's rooms through the shared LiveKit deployment.
 * The tenant names its own rooms; LiveKit sees them namespaced. A record is written only after
 * LiveKit accepted the egress (no half-created records), and list/get answer from D1, kept
 * current by LiveKit's webhooks (`events.ts`).
 */
import { createRoute } from "@hono/zod-openapi";
import { and, eq, inArray, notInArray } from "drizzle-orm";
import type { Context } from "hono";
import { currentApiKey, requireApiKey } from "../api-keys/auth";
import { enforceQuota } from "../billing/quota";
import { auditActor, auditEntry } from "../audit/record";
import { runBatch } from "../db/client";
import { egresses } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { conflict, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, conflictResponse, createRouter, errorResponses, jsonBody, jsonContent, listOf, ListQuery, upstreamResponse } from "../lib/openapi";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { livekitTimeToMs } from "../livekit/timestamps";
import { namespacedRoom } from "../livekit/rooms";
import { allowsPrivateDestinations, assertPublicDestinations, egressDestinations } from "./destinations";
import { reconcileEgress } from "./events";
import { startEgress, stopEgress } from "./livekit";
import { egressRequest, sanitizedOutputs } from "./outputs";
import { EgressListQuery, EgressSchema, serializeEgress, StartEgressBody } from "./schemas";
import { ACTIVE_EGRESS_STATUSES, isTerminalEgressStatus, parseEgressStatus } from "./status";
import { EgressParams } from "../lib/params";

export const egressRoutes = createRouter();
// Hono's "/v1/egress/*" also matches "/v1/egress" itself: one registration, so a request is
// authenticated and rate-limited once.
egressRoutes.use("/v1/egress/*", requireApiKey("egress:write"));
egressRoutes.on("POST", "/v1/egress", enforceQuota("egress_minutes"));

const tags = ["Egress"];

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress",
    tags,
    summary: "Start a room-composite, track or web egress",
    security: bearerSecurity,
    request: { body: jsonBody(StartEgressBody) },
    responses: { 201: jsonContent(EgressSchema, "Started"), ...errorResponses, ...upstreamResponse },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const body = c.req.valid("json");
    const { config, db, logger } = c.var;
    // Before LiveKit hears of it: a refused destination leaves nothing behind.
    assertPublicDestinations(egressDestinations(body), allowsPrivateDestinations(config));
    const room = body.type === "web" ? null : body.room;
    const { method, request } = egressRequest(body, room === null ? null : namespacedRoom(key.projectId, room), key.projectId);
    const info = await startEgress(config.livekit, method, request, logger);

    const at = nowMs();
    const status = parseEgressStatus(info.status);
    const row = {
      id: newId("egress"),
      egressId: info.egress_id,
      projectId: key.projectId,
      orgId: key.orgId,
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
          auditActor(c),
          {
            action: "egress.started",
            resourceType: "egress",
            resourceId: row.id,
            orgId: key.orgId,
            projectId: key.projectId,
            metadata: { egress_id: row.egressId, type: row.type, room },
          },
          at,
        ),
      ]);
    } catch (error) {
      // LiveKit is already recording but Pulse could not keep track of it: stop it rather than
      // leave an egress nobody can see, stop or be billed for.
      c.executionCtx.waitUntil(stopEgress(config.livekit, info.egress_id, logger).catch(() => undefined));
      throw error;
    }
    return c.json(serializeEgress(row), 201);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/egress",
    tags,
    summary: "List this project's egresses, newest first (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { query: ListQuery.extend(EgressListQuery.shape) },
    responses: { 200: jsonContent(listOf(EgressSchema), "Egresses"), ...errorResponses },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const { limit, cursor, room, active } = c.req.valid("query");
    const rows = await c.var.db
      .select()
      .from(egresses)
      .where(
        and(
          eq(egresses.projectId, key.projectId),
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
    const result = page(rows, limit);
    return c.json({ data: result.rows.map(serializeEgress), next_cursor: result.nextCursor }, 200);
  },
);

/** The project's egress by Pulse id; another project's (or no) egress is 404. */
async function loadEgress(c: Context<AppEnv>, projectId: string, id: string) {
  const row = await c.var.db
    .select()
    .from(egresses)
    .where(and(eq(egresses.id, id), eq(egresses.projectId, projectId)))
    .get();
  if (!row) throw notFound("Egress");
  return row;
}

egressRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/egress/{eg_id}",
    tags,
    summary: "Read an egress (from Pulse's records; no LiveKit call)",
    security: bearerSecurity,
    request: { params: EgressParams },
    responses: { 200: jsonContent(EgressSchema, "The egress"), ...errorResponses },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const row = await loadEgress(c, key.projectId, c.req.valid("param").eg_id);
    return c.json(serializeEgress(row), 200);
  },
);

egressRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/egress/{eg_id}/stop",
    tags,
    summary: "Stop an egress; the record shows LiveKit's answer (usually EGRESS_ENDING, then the webhook completes it)",
    security: bearerSecurity,
    request: { params: EgressParams },
    responses: {
      200: jsonContent(EgressSchema, "Stopping"),
      ...errorResponses,
      ...conflictResponse("The egress has already ended"),
      ...upstreamResponse,
    },
  }),
  async (c) => {
    const key = currentApiKey(c);
    const { config, db, logger } = c.var;
    const row = await loadEgress(c, key.projectId, c.req.valid("param").eg_id);
    if (isTerminalEgressStatus(row.status)) {
      throw conflict(`This egress has already ended (${row.status}).`);
    }
    const info = await stopEgress(config.livekit, row.egressId, logger);
    const at = nowMs();
    const { next, statements } = reconcileEgress(db, key, row, info, at);
    await runBatch(db, [
      ...statements,
      auditEntry(
        db,
        auditActor(c),
        {
          action: "egress.stopped",
          resourceType: "egress",
          resourceId: row.id,
          orgId: key.orgId,
          projectId: key.projectId,
          metadata: { egress_id: row.egressId, status: next.status },
        },
        at,
      ),
    ]);
    return c.json(serializeEgress(next), 200);
  },
);
