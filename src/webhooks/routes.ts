/**
 * Tenant webhook endpoints: CRUD, secret rotation, a `webhook.test` send, the delivery log and
 * manual retry. Session auth for /v1/projects/* comes from the projects router (mounted first);
 * every handler resolves the caller's role on the project and looks ids up within that project.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import { auditActor, auditEntry } from "../audit/record";
import { projectAccess } from "../authz/access";
import { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { encryptSecret } from "../lib/secrets";
import { ProjectParams } from "../projects/schemas";
import { rateLimitWebhookSends } from "../rate-limit/middleware";
import { urlOrigin } from "./delivery";
import { enqueueDeliveries, singleMessage } from "./messages";
import {
  CreateWebhookBody,
  DeliveriesQuery,
  MessageParams,
  MessageSchema,
  serializeEndpoint,
  serializeMessage,
  UpdateWebhookBody,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
  WebhookParams,
} from "./schemas";
import { generateWebhookSecret } from "./signing";
import { webhookUrlProblem } from "./url";

export const webhookRoutes = createRouter();
const tags = ["Webhooks"];

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

type Ctx = Context<AppEnv>;


async function loadEndpoint(c: Ctx, projectId: string, endpointId: string) {
  const endpoint = await c.var.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt)))
    .get();
  if (!endpoint) throw notFound("Webhook endpoint");
  return endpoint;
}

function checkUrl(c: Ctx, url: string) {
  const problem = webhookUrlProblem(url, c.var.config.webhookAllowPrivateUrls);
  if (problem) throw validationFailed(`Invalid request: url: ${problem}`, [{ path: "url", message: problem }]);
}

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks",
    tags,
    summary: "Create a webhook endpoint (admin); the signing secret is shown only in this response",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(CreateWebhookBody) },
    responses: { 201: jsonContent(WebhookEndpointWithSecretSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    checkUrl(c, body.url);
    const db = c.var.db;
    const at = nowMs();
    const secret = generateWebhookSecret();
    const endpoint = {
      id: newId("webhookEndpoint"),
      projectId: project_id,
      orgId,
      url: body.url,
      description: body.description ?? null,
      events: body.events ? JSON.stringify(body.events) : null,
      enabled: true,
      disabledReason: null,
      secretEncrypted: await encryptSecret(secret, c.var.config.encryptionKey),
      previousSecretEncrypted: null,
      previousSecretExpiresAt: null,
      failingSince: null,
      createdAt: at,
      updatedAt: at,
      deletedAt: null,
    };
    await db.batch([
      db.insert(webhookEndpoints).values(endpoint),
      auditEntry(
        db,
        auditActor(c),
        { action: "webhook_endpoint.created", resourceType: "webhook_endpoint", resourceId: endpoint.id, orgId, projectId: project_id, metadata: { url_origin: urlOrigin(body.url), events: body.events ?? null } },
        at,
      ),
    ]);
    return c.json({ ...serializeEndpoint(endpoint, at), secret }, 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks",
    tags,
    summary: "List a project's webhook endpoints, newest first (never the secrets)",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(WebhookEndpointSchema), "Endpoints"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await projectAccess(c, project_id, "webhook:read");
    const rows = await c.var.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.projectId, project_id), isNull(webhookEndpoints.deletedAt), afterCursor(cursor, webhookEndpoints.createdAt, webhookEndpoints.id)))
      .orderBy(...newestFirst(webhookEndpoints.createdAt, webhookEndpoints.id))
      .limit(limit + 1)
      .all();
    const result = page(rows, limit);
    const at = nowMs();
    return c.json({ data: result.rows.map((e) => serializeEndpoint(e, at)), next_cursor: result.nextCursor }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Read a webhook endpoint",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 200: jsonContent(WebhookEndpointSchema, "Endpoint"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    await projectAccess(c, project_id, "webhook:read");
    return c.json(serializeEndpoint(await loadEndpoint(c, project_id, whk_id), nowMs()), 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Update a webhook endpoint (admin): url, events, description, enabled",
    security: bearerSecurity,
    request: { params: WebhookParams, body: jsonBody(UpdateWebhookBody) },
    responses: { 200: jsonContent(WebhookEndpointSchema, "Updated"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await loadEndpoint(c, project_id, whk_id);
    if (body.url !== undefined) checkUrl(c, body.url);
    const at = nowMs();
    const changes: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: at };
    if (body.url !== undefined) changes.url = body.url;
    if (body.events !== undefined) changes.events = body.events === null ? null : JSON.stringify(body.events);
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled !== undefined && body.enabled !== endpoint.enabled) {
      changes.enabled = body.enabled;
      // Re-enabling starts a fresh health record; disabling by hand says so.
      changes.disabledReason = body.enabled ? null : "Disabled by a user.";
      if (body.enabled) changes.failingSince = null;
    }
    const db = c.var.db;
    const [updated] = await db.batch([
      db.update(webhookEndpoints).set(changes).where(and(eq(webhookEndpoints.id, whk_id), eq(webhookEndpoints.projectId, project_id))).returning(),
      auditEntry(
        db,
        auditActor(c),
        { action: "webhook_endpoint.updated", resourceType: "webhook_endpoint", resourceId: whk_id, orgId, projectId: project_id, metadata: { changed: Object.keys(body), ...body, ...(body.url !== undefined ? { url: undefined, url_origin: urlOrigin(body.url) } : {}) } },
        at,
      ),
    ]);
    return c.json(serializeEndpoint(updated[0]!, at), 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Delete a webhook endpoint (admin); pending deliveries to it are not sent",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await loadEndpoint(c, project_id, whk_id);
    const db = c.var.db;
    const at = nowMs();
    await db.batch([
      db.update(webhookEndpoints).set({ deletedAt: at, enabled: false, updatedAt: at }).where(eq(webhookEndpoints.id, whk_id)),
      auditEntry(db, auditActor(c), { action: "webhook_endpoint.deleted", resourceType: "webhook_endpoint", resourceId: whk_id, orgId, projectId: project_id, metadata: { url_origin: urlOrigin(endpoint.url) } }, at),
    ]);
    return c.body(null, 204);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/rotate-secret",
    tags,
    summary: "Rotate the signing secret (admin); the new one is shown once, the old one keeps signing for 24 h",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 201: jsonContent(WebhookEndpointWithSecretSchema, "Rotated"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await loadEndpoint(c, project_id, whk_id);
    const db = c.var.db;
    const at = nowMs();
    const secret = generateWebhookSecret();
    const [updated] = await db.batch([
      db
        .update(webhookEndpoints)
        .set({
          secretEncrypted: await encryptSecret(secret, c.var.config.encryptionKey),
          previousSecretEncrypted: endpoint.secretEncrypted,
          previousSecretExpiresAt: at + ROTATION_OVERLAP_MS,
          updatedAt: at,
        })
        .where(eq(webhookEndpoints.id, whk_id))
        .returning(),
      auditEntry(db, auditActor(c), { action: "webhook_endpoint.secret_rotated", resourceType: "webhook_endpoint", resourceId: whk_id, orgId, projectId: project_id }, at),
    ]);
    return c.json({ ...serializeEndpoint(updated[0]!, at), secret }, 201);
  },
);


webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/test",
    tags,
    summary: "Send a `webhook.test` event to this endpoint (admin)",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 202: jsonContent(MessageSchema, "Queued"), 409: { description: "The endpoint is disabled", content: errorResponses[404].content }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await loadEndpoint(c, project_id, whk_id);
    if (!endpoint.enabled) throw conflict("The endpoint is disabled; enable it before sending a test.");
    await rateLimitWebhookSends(c, whk_id);
    const db = c.var.db;
    const at = nowMs();
    const { row, insert } = singleMessage(
      db,
      project_id,
      whk_id,
      { type: "webhook.test", occurredAt: at, data: { endpoint_id: whk_id, message: "This is a test event from Pulse." } },
      `test:${newId("webhookMessage")}`,
    );
    await db.batch([
      insert,
      auditEntry(db, auditActor(c), { action: "webhook_endpoint.tested", resourceType: "webhook_endpoint", resourceId: whk_id, orgId, projectId: project_id, metadata: { message_id: row.id } }, at),
    ]);
    await enqueueDeliveries(c.env.WEBHOOK_QUEUE, [{ message_id: row.id, base_attempts: 0 }]);
    return c.json(serializeMessage({ ...row, lastAttemptAt: null, deliveredAt: null }, []), 202);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/deliveries",
    tags,
    summary: "The delivery log: messages to this endpoint, newest first, each with every attempt",
    security: bearerSecurity,
    request: { params: WebhookParams, query: DeliveriesQuery },
    responses: { 200: jsonContent(listOf(MessageSchema), "Deliveries"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const { limit, cursor, status } = c.req.valid("query");
    await projectAccess(c, project_id, "webhook:read");
    await loadEndpoint(c, project_id, whk_id);
    const db = c.var.db;
    const rows = await db
      .select()
      .from(webhookMessages)
      .where(
        and(
          eq(webhookMessages.endpointId, whk_id),
          eq(webhookMessages.projectId, project_id),
          status ? eq(webhookMessages.status, status) : undefined,
          afterCursor(cursor, webhookMessages.createdAt, webhookMessages.id),
        ),
      )
      .orderBy(...newestFirst(webhookMessages.createdAt, webhookMessages.id))
      .limit(limit + 1)
      .all();
    const result = page(rows, limit);
    const ids = result.rows.map((m) => m.id);
    const attempts = ids.length
      ? await db.select().from(webhookAttempts).where(inArray(webhookAttempts.messageId, ids)).orderBy(asc(webhookAttempts.attempt), asc(webhookAttempts.createdAt)).all()
      : [];
    const data = result.rows.map((m) => serializeMessage(m, attempts.filter((a) => a.messageId === m.id)));
    return c.json({ data, next_cursor: result.nextCursor }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/deliveries/{msg_id}/retry",
    tags,
    summary: "Resend a message now (admin), whatever its status; it keeps its id",
    security: bearerSecurity,
    request: { params: MessageParams },
    responses: { 202: jsonContent(MessageSchema, "Queued"), 409: { description: "The endpoint is disabled", content: errorResponses[404].content }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id, msg_id } = c.req.valid("param");
    const { orgId } = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await loadEndpoint(c, project_id, whk_id);
    if (!endpoint.enabled) throw conflict("The endpoint is disabled; enable it before retrying.");
    await rateLimitWebhookSends(c, whk_id);
    const db = c.var.db;
    const message = await db
      .select()
      .from(webhookMessages)
      .where(and(eq(webhookMessages.id, msg_id), eq(webhookMessages.endpointId, whk_id), eq(webhookMessages.projectId, project_id)))
      .get();
    if (!message) throw notFound("Message");
    const at = nowMs();
    const [updated] = await db.batch([
      db.update(webhookMessages).set({ status: "pending", nextAttemptAt: at }).where(eq(webhookMessages.id, msg_id)).returning(),
      auditEntry(db, auditActor(c), { action: "webhook_message.retried", resourceType: "webhook_message", resourceId: msg_id, orgId, projectId: project_id, metadata: { endpoint_id: whk_id } }, at),
    ]);
    await enqueueDeliveries(c.env.WEBHOOK_QUEUE, [{ message_id: msg_id, base_attempts: message.attempts }]);
    const attempts = await db.select().from(webhookAttempts).where(eq(webhookAttempts.messageId, msg_id)).orderBy(asc(webhookAttempts.attempt)).all();
    return c.json(serializeMessage(updated[0]!, attempts), 202);
  },
);

